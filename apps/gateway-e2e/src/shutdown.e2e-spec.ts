import { CloseCode } from '@ephemeral/protocol';

import { GatewayStack, SignalingClient } from '@ephemeral/testing';

describe('gateway graceful shutdown', () => {
  let stack: GatewayStack;

  beforeAll(async () => {
    stack = await GatewayStack.start({
      presenceEnv: { LEASE_TTL_MIN_SECONDS: '1' },
      gatewayEnv: { LEASE_TTL_SECONDS: '5', DRAIN_TIMEOUT_MS: '4000' },
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('on SIGTERM tells clients to reconnect, closes them with 1001, keeps their leases and exits 0', async () => {
    const a = await SignalingClient.connectAndHello(stack.wsUrl);
    const b = await SignalingClient.connectAndHello(stack.wsUrl);
    const { peerId, resumeToken } = a.welcome!;

    const started = Date.now();
    const exitCode = stack.gateway.stop('SIGTERM', 10_000);
    const reconnect = await a.next('reconnect');
    expect(reconnect.retryAfterMs).toBeGreaterThan(0);
    expect(await b.next('reconnect')).toBeDefined();
    expect((await a.closed).code).toBe(CloseCode.GOING_AWAY);
    expect((await b.closed).code).toBe(CloseCode.GOING_AWAY);
    expect(await exitCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(4_000);

    // Not revoked: the ID is still leased, and a new gateway gives it back.
    expect(await stack.isOnline(peerId)).toBe(true);
    await stack.restartGateway();
    const again = await SignalingClient.connectAndHello(stack.wsUrl, {
      resumePeerId: peerId,
      resumeToken,
    });
    expect(again.welcome).toMatchObject({ peerId, resumed: true });
    await again.close();
  });
});
