import { CompressionTypes, type Kafka, Partitioners, type Producer } from 'kafkajs';
import type { Logger } from '@ephemeral/logging';
import { PresenceEvent } from '@ephemeral/protocol/presence';
import { Backoff } from '@ephemeral/server-runtime';
import type { PresenceMetrics } from '../metrics/presence-metrics';
import { BoundedEventBuffer } from './bounded-event-buffer';
import type { PresenceEventSink } from './presence-event-sink';
import { PRESENCE_EVENTS_TOPIC } from './presence-events-topic';

// 10k events ≈ 1 MB: rides out a broker outage of minutes at normal churn.
// Beyond it the oldest are dropped (counted, logged): memory stays bounded,
// and consumers re-read state with Lookup anyway after a gap.
const DEFAULT_BUFFER_CAPACITY = 10_000;
// Up to 500 records per produce request: one round trip clears a burst (a
// gateway restarting re-registers its peers at once).
const MAX_BATCH = 500;
// Retry a failed send after at most 250 ms, the ceiling doubling up to 5 s
// (Backoff: with jitter), until the broker is back.
const RETRY_BASE_MS = 250;
const RETRY_MAX_MS = 5_000;
// At most one "dropped" line per second however fast events are dropped.
const DROP_LOG_INTERVAL_MS = 1_000;

/**
 * Publishes presence events to Kafka (BusTopics.PRESENCE_EVENTS), keyed by
 * peer ID, value the PresenceEvent protobuf. publish() never waits for the
 * broker: events go into a bounded buffer that one loop sends, in order, one
 * request at a time (so a peer's events stay in order even across retries).
 *
 * acks = -1 (all in-sync replicas): a LEFT event is what tells a sender's
 * receivers that it is gone; losing an acknowledged one on a broker failover
 * would leave them waiting. Events are few (one per connect or disconnect),
 * so the extra milliseconds do not matter. Delivery is at least once (a retry
 * after a lost ack resends); consumers tolerate duplicates (ADR 0001).
 */
export class KafkaPresenceEventPublisher implements PresenceEventSink {
  private readonly producer: Producer;
  private readonly buffer: BoundedEventBuffer<PresenceEvent>;
  private connected = false;
  private failing = false;
  private closed = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private droppedSinceLog = 0;
  private dropLogTimer: NodeJS.Timeout | null = null;
  private readonly idleWaiters = new Set<() => void>();

  constructor(
    kafka: Kafka,
    private readonly logger: Logger,
    private readonly metrics: PresenceMetrics,
    bufferCapacity = DEFAULT_BUFFER_CAPACITY,
  ) {
    this.buffer = new BoundedEventBuffer(bufferCapacity);
    metrics.readEventsBufferedFrom(() => this.buffer.size);
    this.producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      // One request in flight: a retried batch can never overtake a later one.
      maxInFlightRequests: 1,
    });
    this.producer.on(this.producer.events.DISCONNECT, () => {
      this.connected = false;
    });
  }

  /** Events waiting for the broker. */
  get pending(): number {
    return this.buffer.size;
  }

  /** Events dropped because the buffer was full. */
  get dropped(): number {
    return this.buffer.dropped;
  }

  /** Starts the send loop; it connects lazily and retries until close(). */
  start(): void {
    this.loop ??= this.run();
  }

  publish(event: PresenceEvent): void {
    if (this.closed) {
      this.logger.warn({ peerId: event.peerId }, 'presence event after close: not published');
      return;
    }
    if (this.buffer.push(event) > 0) this.countDrop();
    this.wake?.();
  }

  /**
   * Sends what is buffered (for up to `timeoutMs`), then stops and disconnects.
   * Events still buffered after the timeout are logged as lost.
   */
  async close(timeoutMs: number): Promise<void> {
    if (this.buffer.size > 0 && this.loop) {
      await new Promise<void>((resolveIdle) => {
        const timer = setTimeout(done, timeoutMs);
        function done() {
          clearTimeout(timer);
          resolveIdle();
        }
        this.idleWaiters.add(done);
      });
    }
    this.closed = true;
    this.wake?.();
    await this.loop;
    this.flushDropLog();
    if (this.buffer.size > 0) {
      this.logger.warn({ lost: this.buffer.size }, 'presence events not published before shutdown');
    }
    await this.producer.disconnect().catch(() => undefined);
  }

  private async run(): Promise<void> {
    const backoff = new Backoff(RETRY_BASE_MS, RETRY_MAX_MS);
    while (!this.closed) {
      if (this.buffer.size === 0) {
        for (const idle of [...this.idleWaiters]) idle();
        this.idleWaiters.clear();
        await this.sleep(null);
        continue;
      }
      const batch = this.buffer.peek(MAX_BATCH);
      try {
        if (!this.connected) {
          await this.producer.connect();
          this.connected = true;
        }
        await this.producer.send({
          topic: PRESENCE_EVENTS_TOPIC,
          acks: -1,
          compression: CompressionTypes.None,
          messages: batch.map((event) => ({
            key: event.peerId,
            value: Buffer.from(PresenceEvent.encode(event).finish()),
          })),
        });
        this.buffer.commit(batch);
        this.metrics.eventsPublished.inc(batch.length);
        backoff.reset();
        if (this.failing) {
          this.failing = false;
          this.logger.info({ pending: this.buffer.size }, 'presence events: Kafka reachable again');
        }
      } catch (error) {
        this.metrics.eventPublishErrors.inc();
        if (!this.failing) {
          this.failing = true;
          this.logger.error(
            { err: error, pending: this.buffer.size, capacity: this.buffer.capacity },
            'presence events: Kafka send failed; buffering and retrying',
          );
        }
        await this.sleep(backoff.nextDelayMs());
      }
    }
  }

  /** Waits for `ms` (null: until woken by publish or close). */
  private sleep(ms: number | null): Promise<void> {
    return new Promise((resolveSleep) => {
      let timer: NodeJS.Timeout | null = null;
      const done = () => {
        if (timer) clearTimeout(timer);
        this.wake = null;
        resolveSleep();
      };
      if (ms !== null) timer = setTimeout(done, ms);
      // A retry backoff is not cut short by new events, only by close().
      this.wake = ms === null ? done : () => (this.closed ? done() : undefined);
    });
  }

  private countDrop(): void {
    this.metrics.eventsDropped.inc();
    this.droppedSinceLog += 1;
    this.dropLogTimer ??= setTimeout(() => this.flushDropLog(), DROP_LOG_INTERVAL_MS);
    this.dropLogTimer.unref();
  }

  private flushDropLog(): void {
    if (this.dropLogTimer) clearTimeout(this.dropLogTimer);
    this.dropLogTimer = null;
    if (this.droppedSinceLog === 0) return;
    this.logger.warn(
      {
        dropped: this.droppedSinceLog,
        droppedTotal: this.buffer.dropped,
        capacity: this.buffer.capacity,
      },
      'presence events dropped: buffer full while Kafka is unreachable (oldest first)',
    );
    this.droppedSinceLog = 0;
  }
}
