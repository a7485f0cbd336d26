import type { Counter, Gauge, Histogram, MetricsRegistry } from '@ephemeral/metrics';

// gRPC latency buckets, seconds: a memory-store call takes tens of
// microseconds, a Redis one a fraction of a millisecond on loopback and a
// millisecond or two in-cluster; 1 s is far beyond healthy. 2.5 s sits just
// above the Redis command timeout (2 s), so calls that hit it land in their
// own bucket instead of only in +Inf.
const GRPC_DURATION_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

type Source = () => number | Promise<number>;

/**
 * Every presence metric (docs/metrics.md), defined once on the process's
 * registry. Counters are incremented where the event happens; gauges read
 * their source at scrape time, set with the read* methods once the source
 * exists (until then they read 0).
 */
export class PresenceMetrics {
  readonly leasesGranted: Counter<'mode'>;
  readonly leasesRevoked: Counter;
  readonly leasesExpired: Counter;
  readonly keepAliveResults: Counter<'status'>;
  readonly leaseStoreErrors: Counter<'operation' | 'reason'>;
  readonly grpcRequests: Counter<'grpc_service' | 'method' | 'code'>;
  readonly grpcRequestDuration: Histogram<'grpc_service' | 'method'>;
  readonly watchStreamsOverflowed: Counter;
  readonly eventsPublished: Counter;
  readonly eventPublishErrors: Counter;
  readonly eventsDropped: Counter;
  readonly eventsConsumed: Counter;
  readonly eventsConsumerLag: Gauge<'partition'>;

  private leasesHeld: Source = () => 0;
  private watchSubscribers: Source = () => 0;
  private eventsBuffered: Source = () => 0;

  constructor(registry: MetricsRegistry) {
    registry.gauge({
      name: 'presence_leases_held',
      help: 'Unexpired leases in the lease store, revoked ones included until their original expiry (Redis: shared by every replica).',
      collect: async (gauge) => {
        try {
          gauge.set(await this.leasesHeld());
        } catch {
          // Store unreachable: keep the last value rather than fail the whole
          // scrape; lease store errors and UNAVAILABLE answers show the outage.
        }
      },
    });
    this.leasesGranted = registry.counter({
      name: 'presence_leases_granted_total',
      help: 'Leases granted by this replica, by register mode (new, resume).',
      labelNames: ['mode'],
    });
    this.leasesRevoked = registry.counter({
      name: 'presence_leases_revoked_total',
      help: 'Leases revoked through this replica (the gateway saw the socket close).',
    });
    this.leasesExpired = registry.counter({
      name: 'presence_leases_expired_total',
      help: 'Leases that expired and were claimed (and announced) by this replica.',
    });
    this.keepAliveResults = registry.counter({
      name: 'presence_keepalive_results_total',
      help: 'Per-lease keepalive outcomes (renewed, not_found, fenced).',
      labelNames: ['status'],
    });
    this.leaseStoreErrors = registry.counter({
      name: 'presence_lease_store_errors_total',
      help: 'Lease store calls that failed, by operation and reason (refusals such as fenced, or unavailable, internal).',
      labelNames: ['operation', 'reason'],
    });
    this.grpcRequests = registry.counter({
      name: 'presence_grpc_requests_total',
      help: 'gRPC calls finished, by service, method and status code (streams count when they end).',
      labelNames: ['grpc_service', 'method', 'code'],
    });
    this.grpcRequestDuration = registry.histogram({
      name: 'presence_grpc_request_duration_seconds',
      help: 'Time from a unary gRPC call arriving to its status being sent, by service and method.',
      labelNames: ['grpc_service', 'method'],
      buckets: GRPC_DURATION_BUCKETS,
    });
    registry.gauge({
      name: 'presence_watch_subscribers',
      help: 'Open Watch streams on this replica.',
      collect: async (gauge) => gauge.set(await this.watchSubscribers()),
    });
    this.watchStreamsOverflowed = registry.counter({
      name: 'presence_watch_streams_overflowed_total',
      help: 'Watch streams ended with RESOURCE_EXHAUSTED because the client fell too far behind.',
    });
    this.eventsPublished = registry.counter({
      name: 'presence_events_published_total',
      help: 'Presence events acknowledged by Kafka.',
    });
    this.eventPublishErrors = registry.counter({
      name: 'presence_events_publish_errors_total',
      help: 'Failed attempts to send a batch of presence events to Kafka, connecting or producing (each retry counts).',
    });
    registry.gauge({
      name: 'presence_events_buffered',
      help: 'Presence events waiting to be sent to Kafka.',
      collect: async (gauge) => gauge.set(await this.eventsBuffered()),
    });
    this.eventsDropped = registry.counter({
      name: 'presence_events_dropped_total',
      help: 'Presence events dropped (oldest first) because the buffer was full while Kafka was unreachable.',
    });
    this.eventsConsumed = registry.counter({
      name: 'presence_events_consumed_total',
      help: 'Presence events read from Kafka into the Watch hub of this replica.',
    });
    this.eventsConsumerLag = registry.gauge({
      name: 'presence_events_consumer_lag',
      help: 'Records behind the partition end after the last batch the feed of this replica processed, by partition.',
      labelNames: ['partition'],
    });
    // Known label values start at 0, so increase() sees the first event too
    // (a series that appears at 1 has no earlier sample to compare with).
    for (const mode of ['new', 'resume']) this.leasesGranted.inc({ mode }, 0);
    for (const status of ['renewed', 'not_found', 'fenced']) {
      this.keepAliveResults.inc({ status }, 0);
    }
  }

  readLeasesHeldFrom(source: Source): void {
    this.leasesHeld = source;
  }

  readWatchSubscribersFrom(source: Source): void {
    this.watchSubscribers = source;
  }

  readEventsBufferedFrom(source: Source): void {
    this.eventsBuffered = source;
  }
}
