import { randomBytes } from 'node:crypto';

import {
  type Admin,
  AssignerProtocol,
  type Consumer,
  type ConsumerCrashEvent,
  type ConsumerEndBatchProcessEvent,
  type ConsumerGroupJoinEvent,
  type Kafka,
  type PartitionAssigner,
} from 'kafkajs';

import type { Logger } from '@ephemeral/logging';
import { Backoff } from '@ephemeral/server-runtime';

import { disconnectWithin } from './disconnect-within';

// Liveness: a single-member group never rebalances on its own; 10 s finds a
// dead process's membership quickly (the broker's floor is 6 s) and a third
// of it between heartbeats is the usual ratio.
const SESSION_TIMEOUT_MS = 10_000;
const HEARTBEAT_INTERVAL_MS = 3_000;
const REBALANCE_TIMEOUT_MS = 10_000;
// Inside one incarnation, a failing call is retried for ~10 s (300 ms
// doubling to 3 s) before the consumer crashes and is replaced.
const RETRY = { retries: 5, initialRetryTime: 300, maxRetryTime: 3_000 };
// Idle fetches return every maxWaitTimeMs, so this long without one means
// the broker is not answering: `flowing` turns false.
const FLOWING_WINDOW_MS = 3_000;
// A consumer that has not fetched for this long (a loop stuck inside
// kafkajs) is replaced. Longer than one incarnation's retry budget, so a
// consumer that is still retrying is left to crash on its own.
const STALL_RECREATE_MS = 30_000;
const WATCHDOG_TICK_MS = 1_000;
// Replacing a crashed consumer: within 0.5 s first, the ceiling doubling to
// 5 s, with jitter (Backoff) so many gateways do not come back to a
// recovering broker in step.
const RELAUNCH_BASE_MS = 500;
const RELAUNCH_MAX_MS = 5_000;

export interface SupervisedConsumerOptions {
  topic: string;
  /**
   * Consumer groups are named `<groupPrefix>.<random>`: a fresh group for
   * every consumer incarnation (see the class comment).
   */
  groupPrefix: string;
  /**
   * One record, in partition order; the next waits for a returned promise.
   * A throw (or rejection) is logged and the record skipped.
   */
  onRecord(value: Buffer, timestampMs: number, partition: number): void | Promise<void>;
  /** Consumption resumed after an interruption (records were delayed, possibly missed). */
  onResumed?(): void;
  /** Runs with a connected admin before the first start (e.g. creating the topic); retried until it succeeds. */
  prepare?(admin: Admin): Promise<void>;
  /** A consumer incarnation was given up and will be replaced (for a restarts metric). */
  onRelaunch?(): void;
  /** Records behind the partition's high watermark after a batch (for a lag metric). */
  onLag?(partition: number, lag: number): void;
  /** Longest idle fetch; bounds heartbeats and stop() too. Default 50 ms. */
  maxWaitTimeMs?: number;
  /**
   * Read only these partitions (default: all). kafkajs has no manual
   * `assign()`: the group (one member, a fresh one per incarnation) uses an
   * assigner that hands its member exactly these, so the partitions are
   * fixed by the caller, never rebalanced to anyone else.
   */
  partitions?: readonly number[];
}

/**
 * A group protocol that gives every member the same fixed partitions. Meant
 * for single-member groups (a SupervisedConsumer's fresh group), where it
 * turns the group into a manual assignment.
 */
function fixedPartitionsAssigner(topic: string, partitions: readonly number[]): PartitionAssigner {
  return () => ({
    name: 'ephemeral-fixed-partitions',
    version: 1,
    assign: async ({ members }) =>
      members.map(({ memberId }) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: { [topic]: [...partitions] },
          userData: Buffer.alloc(0),
        }),
      })),
    protocol: ({ topics }) => ({
      name: 'ephemeral-fixed-partitions',
      metadata: AssignerProtocol.MemberMetadata.encode({
        version: 1,
        topics,
        userData: Buffer.alloc(0),
      }),
    }),
  });
}

/**
 * A kafkajs consumer that reads every partition of one topic in order and
 * keeps itself running through broker outages of any length, without ever
 * skipping or repeating a record it can still read.
 *
 * Why it looks like this (ADR 0007 §6):
 * - It alone restarts consumers. kafkajs's own restart after a crash is
 *   switched off (`restartOnFailure` → false): with two owners, a consumer
 *   being replaced could be restarted by kafkajs after it was disconnected
 *   (the restart timer is armed after `disconnect()` returns), and the two
 *   members then rebalanced each other for minutes after an outage.
 * - Every incarnation joins a fresh group. Positions are not taken from the
 *   group's commits (nothing is committed) but from this object's memory:
 *   the next offset of every partition, set from the topic's end at the
 *   first start and advanced with every record. On joining, each partition
 *   is sought to it. A fresh group never waits for a dead predecessor's
 *   session to expire, and an empty group without offsets is removed by the
 *   broker by itself.
 */
export class SupervisedConsumer {
  private consumer: Consumer | undefined;
  private generation = 0;
  private prepared = false;
  private stopped = true;
  private joined = false;
  private lastFetchAt = 0;
  private interrupted = false;
  private watchdog: NodeJS.Timeout | undefined;
  private relaunchTimer: NodeJS.Timeout | undefined;
  private readonly flowWaiters = new Set<() => void>();
  /** partition → next offset to read (string: Kafka offsets are int64). */
  private readonly positions = new Map<number, string>();
  private readonly relaunchBackoff = new Backoff(RELAUNCH_BASE_MS, RELAUNCH_MAX_MS);

  constructor(
    private readonly kafka: Kafka,
    private readonly options: SupervisedConsumerOptions,
    private readonly logger: Logger,
  ) {}

  /** Joined and fetching within the last few seconds. */
  get flowing(): boolean {
    return !this.stopped && this.joined && Date.now() - this.lastFetchAt < FLOWING_WINDOW_MS;
  }

  /** Starts in the background; resolves true once records flow, false after `waitMs`. */
  async start(waitMs: number): Promise<boolean> {
    if (!this.stopped) return this.flowing;
    this.stopped = false;
    this.watchdog = setInterval(() => this.checkStall(), WATCHDOG_TICK_MS);
    this.watchdog.unref();
    void this.launch();
    return this.waitUntilFlowing(waitMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.joined = false;
    clearInterval(this.watchdog);
    clearTimeout(this.relaunchTimer);
    this.relaunchTimer = undefined;
    this.generation += 1;
    const consumer = this.consumer;
    this.consumer = undefined;
    // disconnect() stops the fetch loop and sends LeaveGroup, so the group
    // is empty (and removable) at once instead of after the session timeout.
    if (consumer) await disconnectWithin(consumer);
    for (const waiter of [...this.flowWaiters]) waiter();
  }

  private waitUntilFlowing(waitMs: number): Promise<boolean> {
    if (this.flowing) return Promise.resolve(true);
    return new Promise((resolveFlowing) => {
      const done = () => {
        clearTimeout(timer);
        this.flowWaiters.delete(done);
        resolveFlowing(this.flowing);
      };
      const timer = setTimeout(done, waitMs);
      this.flowWaiters.add(done);
    });
  }

  private async launch(): Promise<void> {
    const generation = ++this.generation;
    const current = () => generation === this.generation && !this.stopped;
    const { topic } = this.options;
    const groupId = `${this.options.groupPrefix}.${randomBytes(4).toString('hex')}`;
    try {
      await this.prepareAndLearnTopicEnd();
      if (!current()) return;
      const consumer = this.createConsumer(groupId, current);
      this.consumer = consumer;
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: false });
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: 1,
        // eachBatch, not eachMessage: kafkajs's per-message wrapper (offset
        // resolution, heartbeat check, promise) costs more than our handler.
        eachBatch: async ({ batch }) => {
          const { partition } = batch;
          for (const message of batch.messages) {
            if (!current()) return;
            this.positions.set(partition, (BigInt(message.offset) + 1n).toString());
            if (!message.value) continue;
            try {
              const handled = this.options.onRecord(
                message.value,
                Number(message.timestamp),
                partition,
              );
              if (handled) await handled;
            } catch (error) {
              this.warn('record handler failed', error, { partition, offset: message.offset });
            }
          }
        },
      });
    } catch (error) {
      if (!current()) return;
      this.interrupted = true;
      this.warn('kafka consumer could not start; retrying', error, { groupId });
      this.scheduleRelaunch();
    }
  }

  /**
   * Runs `prepare` once and records the end of every partition not yet
   * known: the first start reads from "now", and a partition added later
   * starts at its end as of the next incarnation.
   */
  private async prepareAndLearnTopicEnd(): Promise<void> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      if (!this.prepared && this.options.prepare) {
        await this.options.prepare(admin);
        this.prepared = true;
      }
      const ends = await admin.fetchTopicOffsets(this.options.topic);
      for (const { partition, high } of ends) {
        if (!this.positions.has(partition)) this.positions.set(partition, high);
      }
    } finally {
      await disconnectWithin(admin);
    }
  }

  private createConsumer(groupId: string, current: () => boolean): Consumer {
    const { topic } = this.options;
    const consumer = this.kafka.consumer({
      groupId,
      sessionTimeout: SESSION_TIMEOUT_MS,
      rebalanceTimeout: REBALANCE_TIMEOUT_MS,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      maxWaitTimeInMs: this.options.maxWaitTimeMs ?? 50,
      minBytes: 1,
      allowAutoTopicCreation: false,
      retry: { ...RETRY, restartOnFailure: async () => false },
      ...(this.options.partitions
        ? { partitionAssigners: [fixedPartitionsAssigner(topic, this.options.partitions)] }
        : {}),
    });
    consumer.on(consumer.events.GROUP_JOIN, (event: ConsumerGroupJoinEvent) => {
      if (!current()) {
        // Replaced while it was still joining: it must not keep running.
        void disconnectWithin(consumer);
        return;
      }
      // kafkajs emits this synchronously before its first fetch, so the
      // seeks decide where every partition is read from.
      for (const partition of event.payload.memberAssignment[topic] ?? []) {
        const offset = this.positions.get(partition);
        if (offset !== undefined) consumer.seek({ topic, partition, offset });
      }
      this.joined = true;
      this.markFetched();
      this.logger.info({ topic, groupId }, 'kafka consumer joined its group');
    });
    consumer.on(consumer.events.FETCH, () => {
      if (current()) this.markFetched();
    });
    // Lag from kafkajs's own bookkeeping at the end of each batch (high
    // watermark minus the last offset handled): exact, and no extra broker
    // calls. Only non-empty batches report, so an idle partition keeps its
    // last value (0 once caught up).
    consumer.on(consumer.events.END_BATCH_PROCESS, (event: ConsumerEndBatchProcessEvent) => {
      if (!current()) return;
      const lag = Number(event.payload.offsetLag);
      if (Number.isFinite(lag)) this.options.onLag?.(event.payload.partition, Math.max(0, lag));
    });
    consumer.on(consumer.events.CRASH, (event: ConsumerCrashEvent) => {
      if (!current()) return;
      this.joined = false;
      this.interrupted = true;
      this.logger.warn(
        { topic, groupId, err: event.payload.error },
        'kafka consumer crashed; replacing it',
      );
      this.scheduleRelaunch();
    });
    return consumer;
  }

  private markFetched(): void {
    this.lastFetchAt = Date.now();
    for (const waiter of [...this.flowWaiters]) waiter();
    if (!this.interrupted) return;
    this.interrupted = false;
    this.relaunchBackoff.reset();
    this.logger.info({ topic: this.options.topic }, 'kafka consumer flowing again');
    try {
      this.options.onResumed?.();
    } catch (error) {
      this.warn('resume handler failed', error);
    }
  }

  private checkStall(): void {
    if (this.stopped || this.relaunchTimer) return;
    const idleMs = Date.now() - this.lastFetchAt;
    // Records are delayed from here on: the owner hears about it on resume.
    if (this.lastFetchAt > 0 && idleMs > FLOWING_WINDOW_MS) this.interrupted = true;
    if (this.lastFetchAt > 0 && idleMs > STALL_RECREATE_MS) {
      this.logger.warn(
        { topic: this.options.topic, idleMs },
        'kafka consumer stalled; replacing it',
      );
      this.lastFetchAt = Date.now(); // one replacement per stall window
      this.scheduleRelaunch();
    }
  }

  /** Retires the current incarnation (if any) and launches the next after a backoff. */
  private scheduleRelaunch(): void {
    if (this.stopped || this.relaunchTimer) return;
    this.options.onRelaunch?.();
    const old = this.consumer;
    this.consumer = undefined;
    this.joined = false;
    this.generation += 1; // events of the old consumer are ignored from now on
    const delayMs = this.relaunchBackoff.nextDelayMs();
    this.relaunchTimer = setTimeout(() => {
      void (async () => {
        if (old) await disconnectWithin(old);
        this.relaunchTimer = undefined;
        if (!this.stopped) await this.launch();
      })();
    }, delayMs);
  }

  private warn(message: string, error: unknown, fields: Record<string, unknown> = {}): void {
    this.logger.warn(
      {
        topic: this.options.topic,
        ...fields,
        err: error,
      },
      message,
    );
  }
}
