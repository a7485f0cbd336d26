import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from '@ephemeral/logging';
import { PresenceEvent } from '@ephemeral/protocol/presence';
import type { PresenceMetrics } from '../metrics/presence-metrics';
import type { PresenceEventSink } from './presence-event-sink';
import { ensurePresenceEventsTopic, PRESENCE_EVENTS_TOPIC } from './presence-events-topic';

// Restart a failed start or a crashed consumer after 500 ms, doubling to 10 s.
const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 10_000;
// Consumer session: a replica that vanished without leaving is dropped from
// its (private) group within 10 s; heartbeats every 3 s keep a live one in.
const SESSION_TIMEOUT_MS = 10_000;
const HEARTBEAT_INTERVAL_MS = 3_000;
// An idle fetch returns after at most 500 ms; a record is returned as soon as
// it arrives (minBytes 1), so this bounds idle polling, not latency.
const MAX_WAIT_MS = 500;
// Joining a group takes well under a second on a healthy cluster (the broker's
// group.initial.rebalance.delay.ms, 3 s by default, comes on top); 30 s means
// the broker is not really there, and start() fails and retries.
const JOIN_TIMEOUT_MS = 30_000;
// start() retries for up to 30 s before the replica listens without its feed
// (which then keeps retrying): long enough for a fresh topic's metadata or a
// broker restart, short enough not to stall a rollout behind a dead cluster.
const START_DEADLINE_MS = 30_000;

/**
 * Feeds the local Watch hub from the presence events topic, so a Watch on any
 * replica streams every replica's events (an expiry reaped by replica 1
 * reaches a watcher on replica 2). Each replica is its own consumer group
 * (`presence-watch.<instanceId>`) and reads every partition, from the end of
 * the topic as it was when start() began: events published from then on are
 * delivered, earlier ones are not replayed.
 */
export class KafkaPresenceEventFeed {
  private consumer: Consumer | null = null;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private restartMs = RESTART_MIN_MS;
  /** Joined at least once: a restart resumes from commits, not from the topic end. */
  private started = false;
  readonly groupId: string;

  constructor(
    private readonly kafka: Kafka,
    instanceId: string,
    private readonly target: PresenceEventSink,
    private readonly logger: Logger,
    private readonly metrics: PresenceMetrics,
  ) {
    this.groupId = `presence-watch.${instanceId}`;
  }

  /**
   * Creates the topic if needed, joins and starts consuming. Resolves once the
   * consumer joined its group (every later event will reach the hub); rejects
   * if that failed, and then keeps retrying in the background until stop().
   */
  async start(): Promise<void> {
    const deadline = Date.now() + START_DEADLINE_MS;
    for (let delay = RESTART_MIN_MS; ; delay = Math.min(delay * 2, RESTART_MAX_MS)) {
      try {
        await this.startOnce(true);
        this.started = true;
        return;
      } catch (error) {
        // Typical on a fresh cluster: two replicas race to create the topic
        // and its metadata takes a moment to reach every broker.
        if (this.stopped || Date.now() + delay > deadline) {
          this.logger.error(
            { err: error, groupId: this.groupId },
            'presence events feed could not start; retrying in the background',
          );
          this.scheduleRestart();
          throw error;
        }
        this.logger.warn(
          { err: error, retryInMs: delay },
          'presence events feed start failed; retrying',
        );
        await new Promise((resolveDelay) => setTimeout(resolveDelay, delay));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const consumer = this.consumer;
    this.consumer = null;
    if (!consumer) return;
    await consumer.disconnect().catch(() => undefined);
    // The group is private to this process: remove it rather than leave its
    // offsets behind for the broker's retention period.
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([this.groupId]);
    } catch (error) {
      this.logger.debug({ err: error, groupId: this.groupId }, 'presence events group not deleted');
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** `fromTopicEnd`: the first start; a restart resumes from the group's commits. */
  private async startOnce(fromTopicEnd: boolean): Promise<void> {
    const admin = this.kafka.admin();
    let endOffsets: Array<{ partition: number; offset: string }>;
    try {
      await admin.connect();
      await ensurePresenceEventsTopic(admin, this.logger);
      endOffsets = await admin.fetchTopicOffsets(PRESENCE_EVENTS_TOPIC);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }

    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: SESSION_TIMEOUT_MS,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      maxWaitTimeInMs: MAX_WAIT_MS,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      // kafkajs restarts itself after retriable errors; otherwise we do.
      if (payload.restart || this.stopped) return;
      this.logger.error({ err: payload.error }, 'presence events consumer crashed; restarting');
      void consumer.disconnect().catch(() => undefined);
      if (this.consumer === consumer) this.consumer = null;
      this.scheduleRestart();
    });
    // kafkajs reports each processed batch with the partition's high
    // watermark: lag for free, no extra admin calls. It is as of the last
    // non-empty batch, so an idle feed keeps its last value (0 once caught up).
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      this.metrics.eventsConsumerLag.set(
        { partition: String(payload.partition) },
        Math.max(0, Number(payload.offsetLag)),
      );
    });
    const joined = new Promise<void>((resolveJoin) => {
      const remove = consumer.on(consumer.events.GROUP_JOIN, () => {
        remove();
        resolveJoin();
      });
    });

    let joinTimer: NodeJS.Timeout | null = null;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [PRESENCE_EVENTS_TOPIC], fromBeginning: false });
      await consumer.run({
        eachMessage: ({ message, partition }) =>
          this.deliver(message.value, partition, message.offset),
      });
      // First start: where the topic ended before we joined, not where the
      // group last committed (a previous process with the same instance ID)
      // nor at "latest when the first fetch happens" (which would miss events
      // sent meanwhile). A restart after a crash resumes from its commits.
      for (const { partition, offset } of fromTopicEnd ? endOffsets : []) {
        consumer.seek({ topic: PRESENCE_EVENTS_TOPIC, partition, offset });
      }
      await Promise.race([
        joined,
        new Promise<never>((_, reject) => {
          joinTimer = setTimeout(
            () => reject(new Error(`no group join within ${JOIN_TIMEOUT_MS} ms`)),
            JOIN_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (error) {
      if (this.consumer === consumer) this.consumer = null;
      await consumer.disconnect().catch(() => undefined);
      throw error;
    } finally {
      if (joinTimer) clearTimeout(joinTimer);
    }
    this.logger.info(
      { groupId: this.groupId, topic: PRESENCE_EVENTS_TOPIC, partitions: endOffsets.length },
      'presence events feed consuming',
    );
  }

  private async deliver(value: Buffer | null, partition: number, offset: string): Promise<void> {
    if (!value) return;
    let event: PresenceEvent;
    try {
      event = PresenceEvent.decode(value);
    } catch (error) {
      this.logger.warn(
        { err: error, partition, offset },
        'presence events: undecodable record skipped',
      );
      return;
    }
    this.metrics.eventsConsumed.inc();
    await this.target.publish(event);
  }

  private scheduleRestart(): void {
    if (this.stopped || this.restartTimer) return;
    const delay = this.restartMs;
    this.restartMs = Math.min(this.restartMs * 2, RESTART_MAX_MS);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stopped) return;
      this.startOnce(!this.started).then(
        () => {
          this.started = true;
          this.restartMs = RESTART_MIN_MS;
        },
        (error: unknown) => {
          this.logger.warn({ err: error }, 'presence events feed restart failed; retrying');
          this.scheduleRestart();
        },
      );
    }, delay);
    this.restartTimer.unref();
  }
}
