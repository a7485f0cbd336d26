import { CloseCode, ErrorCode, SignalKind } from '@ephemeral/protocol';
import { MetricsRegistry } from '@ephemeral/metrics';

import { closeCodeLabel, errorCodeLabel, GatewayMetrics, signalKindLabel } from './gateway-metrics';

describe('GatewayMetrics', () => {
  it('defines every series under ephemeral_gateway_, known labels starting at 0', async () => {
    const metrics = GatewayMetrics.unscraped();
    const text = await metrics.registry.metrics();
    const names = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => [
      name,
      type,
    ]);
    expect(names.every(([name]) => name.startsWith('ephemeral_gateway_'))).toBe(true);
    expect(names).toEqual(
      expect.arrayContaining([
        ['ephemeral_gateway_peers_connected', 'gauge'],
        ['ephemeral_gateway_sessions_awaiting_hello', 'gauge'],
        ['ephemeral_gateway_signal_relay_latency_seconds', 'histogram'],
        ['ephemeral_gateway_kafka_consumer_lag', 'gauge'],
      ]),
    );
    expect(text).toContain('ephemeral_gateway_errors_sent_total{code="PEER_NOT_FOUND"} 0');
    expect(text).toContain('ephemeral_gateway_signals_relayed_total{kind="candidate"} 0');
    expect(text).toContain('ephemeral_gateway_connections_closed_total{close_code="1001"} 0');
    expect(text).toContain('ephemeral_gateway_lease_keepalive_results_total{status="failed"} 0');
    expect(text).toContain('ephemeral_gateway_upgrades_refused_total{reason="origin"} 0');
    expect(text).toContain('ephemeral_gateway_signals_limited_total{limit="target_signals"} 0');
  });

  it('reads gauges from their sources at scrape time', async () => {
    const metrics = GatewayMetrics.unscraped();
    let peers = 3;
    metrics.readPeersConnectedFrom(() => peers);
    metrics.readLeasesHeldFrom(() => 4);
    expect(await metrics.registry.metrics()).toContain('ephemeral_gateway_peers_connected 3');
    peers = 5;
    const text = await metrics.registry.metrics();
    expect(text).toContain('ephemeral_gateway_peers_connected 5');
    expect(text).toContain('ephemeral_gateway_leases_held 4');
  });

  it('observes relay latency from the record stamp, never negative', async () => {
    const metrics = GatewayMetrics.unscraped();
    metrics.signalDelivered(SignalKind.SIGNAL_KIND_OFFER, 1_000, 1_003);
    metrics.signalDelivered(SignalKind.SIGNAL_KIND_OFFER, 2_000, 1_990); // clock skew
    const text = await metrics.registry.metrics();
    expect(text).toContain('ephemeral_gateway_signals_delivered_total{kind="offer"} 2');
    expect(text).toContain('ephemeral_gateway_signal_relay_latency_seconds_bucket{le="0.001"} 1');
    expect(text).toContain('ephemeral_gateway_signal_relay_latency_seconds_bucket{le="0.005"} 2');
    expect(text).toContain('ephemeral_gateway_signal_relay_latency_seconds_count 2');
  });

  it('counts relay-path events in tallies that every scrape adds to the counters', async () => {
    const metrics = GatewayMetrics.unscraped();
    metrics.frameReceived('signal');
    metrics.frameReceived('signal');
    metrics.frameReceived('undecoded');
    metrics.signalRelayed('candidate');
    metrics.onlinePeerChecked('hit');
    metrics.onlinePeerChecked('miss');
    let text = await metrics.registry.metrics();
    expect(text).toContain('ephemeral_gateway_frames_received_total{kind="signal"} 2');
    expect(text).toContain('ephemeral_gateway_frames_received_total{kind="undecoded"} 1');
    expect(text).toContain('ephemeral_gateway_signals_relayed_total{kind="candidate"} 1');
    expect(text).toContain('ephemeral_gateway_signals_relayed_total{kind="offer"} 0');
    expect(text).toContain('ephemeral_gateway_online_peer_cache_requests_total{result="hit"} 1');
    expect(text).toContain('ephemeral_gateway_online_peer_cache_requests_total{result="miss"} 1');
    // A second scrape adds only what came since the first.
    metrics.frameReceived('signal');
    text = await metrics.registry.metrics();
    expect(text).toContain('ephemeral_gateway_frames_received_total{kind="signal"} 3');
    expect(text).toContain('ephemeral_gateway_frames_received_total{kind="undecoded"} 1');
    expect(text).toContain('ephemeral_gateway_signals_relayed_total{kind="candidate"} 1');
  });

  it('times presence calls and counts failures by method and code', async () => {
    const metrics = GatewayMetrics.unscraped();
    await metrics.timePresenceCall(
      'Lookup',
      async () => 1,
      () => 'X',
    );
    await expect(
      metrics.timePresenceCall(
        'Register',
        async () => {
          throw new Error('down');
        },
        () => 'UNAVAILABLE',
      ),
    ).rejects.toThrow('down');
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'ephemeral_gateway_presence_request_duration_seconds_count{method="Lookup"} 1',
    );
    expect(text).toContain(
      'ephemeral_gateway_presence_request_errors_total{method="Register",code="UNAVAILABLE"} 1',
    );
  });

  it('names labels from the protocol enums, and bounds close codes', () => {
    expect(errorCodeLabel(ErrorCode.ERROR_CODE_MALFORMED_FRAME)).toBe('MALFORMED_FRAME');
    expect(signalKindLabel(SignalKind.SIGNAL_KIND_CANDIDATE)).toBe('candidate');
    expect(signalKindLabel(SignalKind.SIGNAL_KIND_UNSPECIFIED)).toBe('unspecified');
    expect(closeCodeLabel(CloseCode.GOING_AWAY)).toBe('1001');
    expect(closeCodeLabel(1006)).toBe('1006');
    expect(closeCodeLabel(4321)).toBe('other');
  });

  it('cannot be defined twice on one registry (one GatewayMetrics per process)', () => {
    const registry = new MetricsRegistry({ nodeDefaults: false });
    new GatewayMetrics(registry);
    // prom-client refuses to register the first series a second time.
    expect(() => new GatewayMetrics(registry)).toThrow(
      'A metric with the name ephemeral_gateway_peers_connected has already been registered.',
    );
  });
});
