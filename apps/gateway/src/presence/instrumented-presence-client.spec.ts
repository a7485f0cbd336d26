import { randomUUID } from 'node:crypto';

import { RegisterMode, type RegisterRequest } from '@ephemeral/protocol/presence';

import { GatewayMetrics } from '../metrics/gateway-metrics';

import { FakePresenceClient } from './fake-presence-client';
import { InstrumentedPresenceClient } from './instrumented-presence-client';
import { PresenceCallError } from './presence-client';

const request = (peerId: string = randomUUID()): RegisterRequest => ({
  peerId,
  gatewayId: 'gw-spec',
  ttlSeconds: 15,
  mode: RegisterMode.REGISTER_MODE_NEW,
  resumeTokenSha256: new Uint8Array(32),
});

describe('InstrumentedPresenceClient', () => {
  it('times a RegisterBatch as one call and counts each refused registration as a Register error', async () => {
    const presence = new FakePresenceClient();
    const metrics = GatewayMetrics.unscraped();
    const client = new InstrumentedPresenceClient(presence, metrics);
    const taken = request();
    await presence.register(taken);

    const outcomes = await client.registerBatch([request(), request(taken.peerId), request()]);
    expect(outcomes.map((o) => (o instanceof PresenceCallError ? o.failure : 'granted'))).toEqual([
      'granted',
      'already-exists',
      'granted',
    ]);
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'ephemeral_gateway_presence_request_errors_total{method="Register",code="ALREADY_EXISTS"} 1',
    );
    expect(text).toContain(
      'ephemeral_gateway_presence_request_duration_seconds_count{method="RegisterBatch"} 1',
    );
    expect(text).not.toContain('method="RegisterBatch",code=');
  });

  it('counts a RegisterBatch call that fails as a RegisterBatch error', async () => {
    const presence = new FakePresenceClient();
    presence.down = true;
    const metrics = GatewayMetrics.unscraped();
    const client = new InstrumentedPresenceClient(presence, metrics);
    await expect(client.registerBatch([request(), request()])).rejects.toBeInstanceOf(
      PresenceCallError,
    );
    expect(await metrics.registry.metrics()).toContain(
      'ephemeral_gateway_presence_request_errors_total{method="RegisterBatch",code="UNAVAILABLE"} 1',
    );
  });
});
