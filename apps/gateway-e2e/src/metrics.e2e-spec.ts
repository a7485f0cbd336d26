import { ErrorCode } from '@ephemeral/protocol';

import {
  eventually,
  GatewayStack,
  SignalingClient,
  signals,
  unknownPeerId,
} from '@ephemeral/testing';

// Signals exchanged between the scrapes: enough to tell a delta of N from
// N ± 1 mistakes, well under the per-connection rate limit (50/s, burst 100).
const N = 20;

describe('gateway /metrics (memory bus, real processes)', () => {
  let stack: GatewayStack;
  const clients: SignalingClient[] = [];

  beforeAll(async () => {
    stack = await GatewayStack.start({ gatewayEnv: { METRICS_PORT: '0' } });
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.terminate()));
    await stack?.stop();
  });

  it('serves /metrics on its own port, not on the public HTTP port', async () => {
    const port = stack.gatewayMetricsPort;
    expect(port).toBeGreaterThan(0);
    expect(port).not.toBe(stack.gatewayPort);
    const line = stack.gateway.output.find((l) => l.includes('"msg":"metrics listening"'));
    expect(JSON.parse(line!)).toMatchObject({ msg: 'metrics listening', port });

    const scrape = await stack.scrapeGatewayMetrics();
    expect(scrape.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(scrape.has('process_cpu_user_seconds_total')).toBe(true);
    expect(scrape.has('ephemeral_gateway_peers_connected')).toBe(true);

    const publicPort = await fetch(`${stack.httpUrl}/metrics`);
    await publicPort.text();
    expect(publicPort.status).not.toBe(200);
  });

  it('moves by exactly what happened: N relayed and delivered, one of each error', async () => {
    const a = await SignalingClient.connectAndHello(stack.wsUrl);
    const b = await SignalingClient.connectAndHello(stack.wsUrl);
    clients.push(a, b);
    const before = await stack.scrapeGatewayMetrics();

    for (let n = 0; n < N; n++) {
      a.signal(b.peerId, signals.candidate(n));
      await b.next('signal');
    }
    const missing = a.signal(unknownPeerId(), signals.offer());
    expect(await a.next('error')).toMatchObject({
      code: ErrorCode.ERROR_CODE_PEER_NOT_FOUND,
      seq: missing,
    });
    b.sendRaw(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    expect((await b.next('error')).code).toBe(ErrorCode.ERROR_CODE_MALFORMED_FRAME);

    const after = await stack.scrapeGatewayMetrics();
    const delta = (name: string, labels: Record<string, string> = {}) =>
      after.delta(before, name, labels);
    expect(delta('ephemeral_gateway_signals_relayed_total', { kind: 'candidate' })).toBe(N);
    expect(delta('ephemeral_gateway_signals_delivered_total', { kind: 'candidate' })).toBe(N);
    expect(delta('ephemeral_gateway_signals_relayed_total', { kind: 'offer' })).toBe(0);
    expect(delta('ephemeral_gateway_signal_relay_latency_seconds_count')).toBe(N);
    expect(delta('ephemeral_gateway_errors_sent_total', { code: 'PEER_NOT_FOUND' })).toBe(1);
    expect(delta('ephemeral_gateway_errors_sent_total', { code: 'MALFORMED_FRAME' })).toBe(1);
    expect(delta('ephemeral_gateway_errors_sent_total')).toBe(2);
    expect(delta('ephemeral_gateway_frames_received_total', { kind: 'signal' })).toBe(N + 1);
    expect(delta('ephemeral_gateway_frames_received_total', { kind: 'undecoded' })).toBe(1);
    // One Lookup per target (the positive cache answers the rest): b, then the unknown peer.
    expect(
      delta('ephemeral_gateway_presence_request_duration_seconds_count', { method: 'Lookup' }),
    ).toBe(2);
    expect(delta('ephemeral_gateway_online_peer_cache_requests_total', { result: 'hit' })).toBe(
      N - 1,
    );
    expect(after.value('ephemeral_gateway_peers_connected')).toBe(2);
    expect(after.value('ephemeral_gateway_sessions_awaiting_hello')).toBe(0);
    expect(after.value('ephemeral_gateway_leases_held')).toBe(2);
    // Every relay in-process takes well under 5 s: nothing in +Inf alone.
    expect(after.value('ephemeral_gateway_signal_relay_latency_seconds_bucket', { le: '5' })).toBe(
      after.value('ephemeral_gateway_signal_relay_latency_seconds_count'),
    );
  });

  it('counts connections opened and closed by close code', async () => {
    const before = await stack.scrapeGatewayMetrics();
    const c = await SignalingClient.connectAndHello(stack.wsUrl);
    await c.close(1000);
    // The close event reaches the gateway just after the client sees it.
    const after = await eventually(
      async () => {
        const now = await stack.scrapeGatewayMetrics();
        return now.delta(before, 'ephemeral_gateway_connections_closed_total') > 0 && now;
      },
      { intervalMs: 20, description: '/metrics: the closed connection counted' },
    );
    expect(after.delta(before, 'ephemeral_gateway_connections_opened_total')).toBe(1);
    expect(
      after.delta(before, 'ephemeral_gateway_connections_closed_total', { close_code: '1000' }),
    ).toBe(1);
    expect(after.value('ephemeral_gateway_peers_connected')).toBe(2);
  });
});
