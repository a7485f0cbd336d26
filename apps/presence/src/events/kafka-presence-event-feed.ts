import type { Kafka } from 'kafkajs';

import { SupervisedConsumer } from '@ephemeral/kafka';
import type { Logger } from '@ephemeral/logging';
import { PresenceEvent } from '@ephemeral/protocol/presence';

import type { PresenceMetrics } from '../metrics/presence-metrics';

import type { PresenceEventSink } from './presence-event-sink';
import { ensurePresenceEventsTopic, PRESENCE_EVENTS_TOPIC } from './presence-events-topic';

// An idle fetch returns after at most 500 ms; a record is returned as soon as
// it arrives (minBytes 1), so this bounds idle polling, not latency.
const MAX_WAIT_MS = 500;
// start() waits this long for the feed before the replica listens without it
// (it keeps trying in the background): long enough for a fresh topic's
// metadata or a broker restart, short enough not to stall a rollout behind a
// dead cluster.
const START_DEADLINE_MS = 30_000;

/**
 * Feeds the local Watch hub from the presence events topic, so a Watch on any
 * replica streams every replica's events (an expiry reaped by replica 1
 * reaches a watcher on replica 2). Every replica reads every partition from
 * the end of the topic as it was when start() began: events published from
 * then on are delivered, earlier ones are not replayed. After a broker outage
 * it resumes where it stopped (SupervisedConsumer, groups
 * `presence-watch.<instanceId>.<random>`).
 */
export class KafkaPresenceEventFeed {
  private readonly consumer: SupervisedConsumer;

  constructor(
    kafka: Kafka,
    instanceId: string,
    private readonly target: PresenceEventSink,
    private readonly logger: Logger,
    private readonly metrics: PresenceMetrics,
  ) {
    this.consumer = new SupervisedConsumer(
      kafka,
      {
        topic: PRESENCE_EVENTS_TOPIC,
        groupPrefix: `presence-watch.${instanceId}`,
        maxWaitTimeMs: MAX_WAIT_MS,
        // Typical on a fresh cluster: two replicas race to create the topic.
        prepare: (admin) => ensurePresenceEventsTopic(admin, logger),
        onRecord: (value, _timestampMs, partition) => this.deliver(value, partition),
        onLag: (partition, lag) =>
          metrics.eventsConsumerLag.set({ partition: String(partition) }, lag),
      },
      logger,
    );
  }

  /**
   * Creates the topic if needed, joins and starts consuming. Resolves once
   * events flow (every later event will reach the hub); rejects if that took
   * longer than the start deadline, and then keeps trying in the background
   * until stop().
   */
  async start(): Promise<void> {
    if (await this.consumer.start(START_DEADLINE_MS)) {
      this.logger.info({ topic: PRESENCE_EVENTS_TOPIC }, 'presence events feed consuming');
      return;
    }
    this.logger.error(
      { topic: PRESENCE_EVENTS_TOPIC },
      `presence events feed not flowing within ${START_DEADLINE_MS} ms; still trying in the background`,
    );
    throw new Error(`presence events feed not flowing within ${START_DEADLINE_MS} ms`);
  }

  stop(): Promise<void> {
    return this.consumer.stop();
  }

  private async deliver(value: Buffer, partition: number): Promise<void> {
    let event: PresenceEvent;
    try {
      event = PresenceEvent.decode(value);
    } catch (error) {
      this.logger.warn({ err: error, partition }, 'presence events: undecodable record skipped');
      return;
    }
    this.metrics.eventsConsumed.inc();
    await this.target.publish(event);
  }
}
