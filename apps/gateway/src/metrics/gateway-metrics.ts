import {
  CloseCode,
  ErrorCode,
  errorCodeToJSON,
  SignalKind,
  signalKindToJSON,
} from '@ephemeral/protocol';
import { type Counter, type Gauge, type Histogram, MetricsRegistry } from '@ephemeral/metrics';

import { LabelTally } from './label-tally';

// Relay latency, seconds: from the sending gateway stamping the record to the
// target gateway writing it to the socket. In-process it is tens of
// microseconds; through Kafka (acks=all, a 50 ms idle fetch wait) a few
// milliseconds. 1 ms to 5 s: anything past a second is a consumer catching up
// after an outage, and records older than 30 s are dropped, not delivered.
const RELAY_LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
// Presence calls, seconds: a Lookup takes ~0.2-1 ms on loopback or in-cluster;
// 2 s is the call deadline (5 s for a KeepAlive batch), so those land in their
// own buckets instead of only +Inf.
const PRESENCE_CALL_BUCKETS = [
  0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

/** The frame kinds a client sends, plus `undecoded` (rate-limited before decoding, or refused by the decoder). */
export type FrameKindLabel = 'hello' | 'signal' | 'ping' | 'refreshIceServers' | 'undecoded';
const FRAME_KINDS: readonly FrameKindLabel[] = [
  'hello',
  'signal',
  'ping',
  'refreshIceServers',
  'undecoded',
];

/** Why a WebSocket upgrade was refused with an HTTP status (403 / 429). */
export type UpgradeRefusalLabel = 'origin' | 'ip_connections';
const UPGRADE_REFUSALS: readonly UpgradeRefusalLabel[] = ['origin', 'ip_connections'];

/** The limits that drop signals (see PeerSession.admitSignal). */
const SIGNAL_LIMITS = ['target_signals', 'target_bytes', 'ip'] as const;

/** Why an audit record was not written (`reason` of gateway_audit_records_lost_total). */
export type AuditLossReason = 'failed' | 'dropped';
const AUDIT_LOSS_REASONS: readonly AuditLossReason[] = ['failed', 'dropped'];

/** The presence calls the gateway makes, as `method` label values (gRPC method names). */
export type PresenceMethodLabel =
  | 'Register'
  | 'RegisterBatch'
  | 'KeepAlive'
  | 'Revoke'
  | 'Lookup'
  | 'BatchLookup'
  | 'ListBySubject';

export type KeepAliveStatusLabel = 'renewed' | 'not_found' | 'fenced' | 'failed';
const KEEP_ALIVE_STATUSES: readonly KeepAliveStatusLabel[] = [
  'renewed',
  'not_found',
  'fenced',
  'failed',
];

/** Which Kafka consumer of the gateway a series is about. */
export type KafkaConsumerLabel = 'signals' | 'presence_events';

// Close codes counted by value: the gateway's own (CloseCode) and the standard
// ones a browser or the ws library reports (1005 no status, 1006 dropped TCP
// connection, 1011 unexpected condition). A client may close with any code in
// 3000-4999; the rest are counted as "other" so a client cannot add series.
const KNOWN_CLOSE_CODES: ReadonlySet<number> = new Set<number>([
  ...Object.values(CloseCode),
  1005,
  1006,
  1011,
]);

/** `PEER_NOT_FOUND` for ErrorCode.ERROR_CODE_PEER_NOT_FOUND. */
export function errorCodeLabel(code: ErrorCode): string {
  return errorCodeToJSON(code).replace(/^ERROR_CODE_/, '');
}

function signalKindName(kind: SignalKind): string {
  return signalKindToJSON(kind)
    .replace(/^SIGNAL_KIND_/, '')
    .toLowerCase();
}

// Made once: two regular expressions and a lower-casing per call were on
// every relayed signal's path, twice (route and delivery).
const SIGNAL_KIND_LABELS: ReadonlyMap<SignalKind, string> = new Map(
  Object.values(SignalKind)
    .filter((kind): kind is SignalKind => typeof kind === 'number')
    .map((kind) => [kind, signalKindName(kind)]),
);

/** `offer` for SignalKind.SIGNAL_KIND_OFFER. */
export function signalKindLabel(kind: SignalKind): string {
  return SIGNAL_KIND_LABELS.get(kind) ?? signalKindName(kind);
}

export function closeCodeLabel(code: number): string {
  return KNOWN_CLOSE_CODES.has(code) ? String(code) : 'other';
}

type Source = () => number;

/**
 * Every gateway metric (docs/metrics.md, "Gateway"), defined once on the
 * process registry. Counters are incremented where the event happens, in one
 * place each: connections in SignalingService, refused upgrades in UpgradeGuard,
 * refusals in PeerSession.refuse, relays and limited signals in SignalRouter, presence calls in InstrumentedPresenceClient, Kafka
 * in KafkaSignalBus and SupervisedConsumer. Gauges read their source at
 * scrape time (set with the read* methods; until then they read 0).
 */
export class GatewayMetrics {
  readonly connectionsOpened: Counter;
  readonly connectionsClosed: Counter<'close_code'>;
  readonly framesReceived: Counter<'kind'>;
  readonly signalsRelayed: Counter<'kind'>;
  readonly signalsDelivered: Counter<'kind'>;
  readonly relayLatency: Histogram;
  readonly errorsSent: Counter<'code'>;
  readonly upgradesRefused: Counter<'reason'>;
  readonly signalsLimited: Counter<'limit'>;
  readonly registrationsShed: Counter<'reason'>;
  readonly signalsShed: Counter<'reason'>;
  readonly presenceCallDuration: Histogram<'method'>;
  readonly presenceCallErrors: Counter<'method' | 'code'>;
  readonly onlinePeerCache: Counter<'result'>;
  readonly keepAliveResults: Counter<'status'>;
  readonly busPublishErrors: Counter<'bus'>;
  readonly busRecordsConsumed: Counter<'bus'>;
  readonly kafkaProduceErrors: Counter;
  readonly kafkaProduceRequests: Counter;
  readonly kafkaConsumerRestarts: Counter<'consumer'>;
  readonly kafkaConsumerLag: Gauge<'consumer' | 'partition'>;
  readonly auditRecordsPublished: Counter;
  readonly auditRecordsLost: Counter<'reason'>;

  // The relay path's counts (LabelTally): added to the counters above at scrape time.
  private readonly framesReceivedTally = new LabelTally('kind');
  private readonly signalsRelayedTally = new LabelTally('kind');
  private readonly signalsDeliveredTally = new LabelTally('kind');
  private readonly onlinePeerCacheTally = new LabelTally('result');

  private peersConnected: Source = () => 0;
  private sessionsAwaitingHello: Source = () => 0;
  private leasesHeld: Source = () => 0;

  /** A registry nobody scrapes: for unit specs and in-process benchmarks. */
  static unscraped(): GatewayMetrics {
    return new GatewayMetrics(new MetricsRegistry({ nodeDefaults: false }));
  }

  constructor(readonly registry: MetricsRegistry) {
    registry.gauge({
      name: 'gateway_peers_connected',
      help: 'Welcomed WebSocket connections on this gateway (each holds a peer ID lease).',
      collect: (gauge) => gauge.set(this.peersConnected()),
    });
    registry.gauge({
      name: 'gateway_sessions_awaiting_hello',
      help: 'Open WebSocket connections that have not been welcomed yet.',
      collect: (gauge) => gauge.set(this.sessionsAwaitingHello()),
    });
    this.connectionsOpened = registry.counter({
      name: 'gateway_connections_opened_total',
      help: 'WebSocket connections accepted.',
    });
    this.connectionsClosed = registry.counter({
      name: 'gateway_connections_closed_total',
      help: 'WebSocket connections closed (either side), by close code (unlisted codes: other).',
      labelNames: ['close_code'],
    });
    this.framesReceived = registry.counter({
      name: 'gateway_frames_received_total',
      help: 'WebSocket messages received from clients, by frame kind (undecoded: dropped by the rate limiter before decoding, or refused by the decoder).',
      labelNames: ['kind'],
      collect: (counter) => this.framesReceivedTally.flushInto(counter),
    });
    this.signalsRelayed = registry.counter({
      name: 'gateway_signals_relayed_total',
      help: 'Signals from local clients accepted by the signal bus (published), by signal kind.',
      labelNames: ['kind'],
      collect: (counter) => this.signalsRelayedTally.flushInto(counter),
    });
    this.signalsDelivered = registry.counter({
      name: 'gateway_signals_delivered_total',
      help: 'Signals from the bus written to a local client socket, by signal kind.',
      labelNames: ['kind'],
      collect: (counter) => this.signalsDeliveredTally.flushInto(counter),
    });
    this.relayLatency = registry.histogram({
      name: 'gateway_signal_relay_latency_seconds',
      help: 'Time from the sending gateway publishing a signal to this gateway delivering it (gateway clocks).',
      buckets: RELAY_LATENCY_BUCKETS,
    });
    this.errorsSent = registry.counter({
      name: 'gateway_errors_sent_total',
      help: 'Error frames sent to clients (refused frames), by error code.',
      labelNames: ['code'],
    });
    this.upgradesRefused = registry.counter({
      name: 'gateway_upgrades_refused_total',
      help: 'WebSocket upgrades refused before the socket existed, by reason (origin: 403, Origin not allowed; ip_connections: 429, too many connections from one IP).',
      labelNames: ['reason'],
    });
    this.signalsLimited = registry.counter({
      name: 'gateway_signals_limited_total',
      help: 'Signals dropped with RATE_LIMITED by a per-target or per-IP limit, by limit (target_signals, target_bytes: one sender to one peer; ip: one client IP).',
      labelNames: ['limit'],
    });
    this.registrationsShed = registry.counter({
      name: 'gateway_registrations_shed_total',
      help: 'Hellos turned away before presence was asked (UNAVAILABLE, then close 1013), by reason (renewals_behind: the last lease renewal round ran late or failed; queue_full: too many Registers waiting). ADR 0035.',
      labelNames: ['reason'],
    });
    this.signalsShed = registry.counter({
      name: 'gateway_signals_shed_total',
      help: 'Signals answered UNAVAILABLE because their presence Lookup was not made, by reason (renewals_behind: the last lease renewal round ran late or failed; too_many_lookups: the Lookups in flight are at their bound). ADR 0036.',
      labelNames: ['reason'],
    });
    this.presenceCallDuration = registry.histogram({
      name: 'gateway_presence_request_duration_seconds',
      help: 'Presence gRPC calls made by this gateway, from call to answer (errors included), by method.',
      labelNames: ['method'],
      buckets: PRESENCE_CALL_BUCKETS,
    });
    this.presenceCallErrors = registry.counter({
      name: 'gateway_presence_request_errors_total',
      help: 'Presence gRPC calls that failed, by method and gRPC status (a Lookup of an absent peer is an answer, not an error).',
      labelNames: ['method', 'code'],
    });
    this.onlinePeerCache = registry.counter({
      name: 'gateway_online_peer_cache_requests_total',
      help: 'Online checks before relaying a signal, answered by the positive cache (hit) or by a presence Lookup (miss).',
      labelNames: ['result'],
      collect: (counter) => this.onlinePeerCacheTally.flushInto(counter),
    });
    registry.gauge({
      name: 'gateway_leases_held',
      help: 'Peer ID leases this gateway keeps alive.',
      collect: (gauge) => gauge.set(this.leasesHeld()),
    });
    this.keepAliveResults = registry.counter({
      name: 'gateway_lease_keepalive_results_total',
      help: 'Per-lease keepalive outcomes (renewed, not_found, fenced; failed: the KeepAlive call itself failed).',
      labelNames: ['status'],
    });
    this.busPublishErrors = registry.counter({
      name: 'gateway_bus_publish_errors_total',
      help: 'Signals the signal bus did not accept (the sender got UNAVAILABLE), by bus.',
      labelNames: ['bus'],
    });
    this.busRecordsConsumed = registry.counter({
      name: 'gateway_bus_records_consumed_total',
      help: 'Signal records this gateway read from Kafka, whoever they were for, by bus (kafka: every record of the topic; routed: its own partition only).',
      labelNames: ['bus'],
    });
    this.kafkaProduceErrors = registry.counter({
      name: 'gateway_kafka_produce_errors_total',
      help: 'Signals whose Kafka produce failed or was not acknowledged in time.',
    });
    this.kafkaProduceRequests = registry.counter({
      name: 'gateway_kafka_produce_requests_total',
      help: 'Kafka produce requests for signals; signals per request = relayed signals / requests.',
    });
    this.kafkaConsumerRestarts = registry.counter({
      name: 'gateway_kafka_consumer_restarts_total',
      help: 'Kafka consumers replaced by SupervisedConsumer after a crash, a stall or a failed start (kafkajs never restarts them), by consumer.',
      labelNames: ['consumer'],
    });
    this.kafkaConsumerLag = registry.gauge({
      name: 'gateway_kafka_consumer_lag',
      help: 'Records behind the partition end after the last batch processed, by consumer and partition.',
      labelNames: ['consumer', 'partition'],
    });

    this.auditRecordsPublished = registry.counter({
      name: 'gateway_audit_records_published_total',
      help: 'Audit records the broker acknowledged (AUDIT_SINK=kafka, docs/audit.md).',
    });
    this.auditRecordsLost = registry.counter({
      name: 'gateway_audit_records_lost_total',
      help: 'Audit records not written, by reason: failed (the broker did not take it in time) or dropped (too many already waiting).',
      labelNames: ['reason'],
    });

    // Known label values start at 0, so increase() sees the first event too.
    for (const kind of FRAME_KINDS) this.framesReceived.inc({ kind }, 0);
    for (const kind of [
      SignalKind.SIGNAL_KIND_OFFER,
      SignalKind.SIGNAL_KIND_ANSWER,
      SignalKind.SIGNAL_KIND_CANDIDATE,
      SignalKind.SIGNAL_KIND_BYE,
    ]) {
      this.signalsRelayed.inc({ kind: signalKindLabel(kind) }, 0);
      this.signalsDelivered.inc({ kind: signalKindLabel(kind) }, 0);
    }
    for (const code of Object.values(ErrorCode)) {
      if (typeof code !== 'number' || code <= ErrorCode.ERROR_CODE_UNSPECIFIED) continue;
      this.errorsSent.inc({ code: errorCodeLabel(code) }, 0);
    }
    for (const code of KNOWN_CLOSE_CODES) {
      this.connectionsClosed.inc({ close_code: closeCodeLabel(code) }, 0);
    }
    for (const reason of UPGRADE_REFUSALS) this.upgradesRefused.inc({ reason }, 0);
    for (const limit of SIGNAL_LIMITS) this.signalsLimited.inc({ limit }, 0);
    for (const reason of ['renewals_behind', 'queue_full'])
      this.registrationsShed.inc({ reason }, 0);
    for (const reason of ['renewals_behind', 'too_many_lookups'])
      this.signalsShed.inc({ reason }, 0);
    for (const result of ['hit', 'miss']) this.onlinePeerCache.inc({ result }, 0);
    for (const status of KEEP_ALIVE_STATUSES) this.keepAliveResults.inc({ status }, 0);
    for (const reason of AUDIT_LOSS_REASONS) this.auditRecordsLost.inc({ reason }, 0);
  }

  readPeersConnectedFrom(source: Source): void {
    this.peersConnected = source;
  }

  readSessionsAwaitingHelloFrom(source: Source): void {
    this.sessionsAwaitingHello = source;
  }

  readLeasesHeldFrom(source: Source): void {
    this.leasesHeld = source;
  }

  /** Times one presence call; failures are counted by `code` (gRPC status name). */
  async timePresenceCall<T>(
    method: PresenceMethodLabel,
    call: () => Promise<T>,
    codeOf: (error: unknown) => string,
  ): Promise<T> {
    const end = this.presenceCallDuration.startTimer({ method });
    try {
      return await call();
    } catch (error) {
      this.presenceCallErrors.inc({ method, code: codeOf(error) });
      throw error;
    } finally {
      end();
    }
  }

  /**
   * A presence refusal that came as a value, not a failed call: one
   * registration of a RegisterBatch, counted as the Register it stands for.
   */
  presenceRefusal(method: PresenceMethodLabel, code: string): void {
    this.presenceCallErrors.inc({ method, code });
  }

  /** A client's WebSocket message, by frame kind (`undecoded` when it was not decoded). */
  frameReceived(kind: string): void {
    this.framesReceivedTally.add(kind);
  }

  /** A local client's signal was accepted by the bus. */
  signalRelayed(kindLabel: string): void {
    this.signalsRelayedTally.add(kindLabel);
  }

  /** An online check before relaying: answered by the cache, or by a presence Lookup. */
  onlinePeerChecked(result: 'hit' | 'miss'): void {
    this.onlinePeerCacheTally.add(result);
  }

  /** A record from the bus was written to a local socket. */
  signalDelivered(kind: SignalKind, sentAtUnixMs: number, nowMs = Date.now()): void {
    this.signalsDeliveredTally.add(signalKindLabel(kind));
    // Gateways' clocks may differ by a little: never observe a negative time.
    if (sentAtUnixMs > 0) this.relayLatency.observe(Math.max(0, nowMs - sentAtUnixMs) / 1000);
  }

  /** The end of one Kafka batch (kafkajs END_BATCH_PROCESS): records still behind. */
  consumerLag(consumer: KafkaConsumerLabel, partition: number, lag: number): void {
    this.kafkaConsumerLag.set({ consumer, partition: String(partition) }, Math.max(0, lag));
  }
}
