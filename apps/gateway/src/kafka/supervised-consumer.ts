import type { Consumer, ConsumerCrashEvent, ConsumerEndBatchProcessEvent, Kafka } from 'kafkajs';

import type { Logger } from '@ephemeral/logging';

import type { GatewayMetrics, KafkaConsumerLabel } from '../metrics/gateway-metrics';
import { ReconnectBackoff } from '../presence/reconnect-backoff';

// Fetch long-polls return as soon as one byte is there (minBytes 1), so the
// wait bounds only how long an idle fetch holds the loop: heartbeats and
// stop() wait for it. 50 ms keeps both snappy at ~20 idle fetches/s.
const MAX_WAIT_TIME_MS = 50;
// Liveness: a single-member group never rebalances on its own; 10 s finds a
// dead gateway's membership quickly (the broker's floor is 6 s) and a third
// of it between heartbeats is the usual ratio.
const SESSION_TIMEOUT_MS = 10_000;
const HEARTBEAT_INTERVAL_MS = 3_000;
const REBALANCE_TIMEOUT_MS = 10_000;
// Offsets matter only to resume after a restart of the consumer (not of the
// process): committing every 5 s, not after every batch, keeps a commit
// round trip out of the delivery path.
const AUTO_COMMIT_INTERVAL_MS = 5_000;
// kafkajs gives up after ~10 s of failed calls (5 retries, 300 ms doubling
// to 3 s), crashes the consumer and restarts it itself.
const RETRY = { retries: 5, initialRetryTime: 300, maxRetryTime: 3_000 };
// Idle fetches return every MAX_WAIT_TIME_MS, so 3 s without one means the
// broker is not answering: readiness goes false.
const FLOWING_WINDOW_MS = 3_000;
// kafkajs restarts a crashed consumer by itself; if nothing has fetched for
// this long anyway (a crash it will not restart from, or a stuck loop), the
// consumer is recreated. Longer than kafkajs's own retry budget so the two
// do not fight.
const STALL_RECREATE_MS = 30_000;
const WATCHDOG_TICK_MS = 1_000;
// Recreating after a failed start: 0.5 s first, then up to every 10 s.
const RELAUNCH_BASE_MS = 500;
const RELAUNCH_MAX_MS = 10_000;
// disconnect() waits for the fetch in flight and a LeaveGroup answer; with
// the broker gone that could wait for request timeouts, so it is cut short.
const DISCONNECT_TIMEOUT_MS = 5_000;

/** Disconnects, giving up (silently: the socket is closed anyway) after a bound. */
export function disconnectWithin(
  client: { disconnect(): Promise<void> },
  ms = DISCONNECT_TIMEOUT_MS,
): Promise<void> {
  return new Promise((resolveDone) => {
    const timer = setTimeout(resolveDone, ms);
    timer.unref();
    client.disconnect().then(
      () => {
        clearTimeout(timer);
        resolveDone();
      },
      () => {
        clearTimeout(timer);
        resolveDone();
      },
    );
  });
}

export interface SupervisedConsumerOptions {
  /** Which consumer this is, in metrics. */
  name: KafkaConsumerLabel;
  topic: string;
  /** This instance's own group: every instance reads every partition. */
  groupId: string;
  /** One record, in partition order. Must not block; a throw is logged and skipped. */
  onRecord(value: Buffer, timestampMs: number): void;
  /** Consumption resumed after an interruption: records may have been missed. */
  onResumed?(): void;
  /** Runs before the first successful start (e.g. creating the topic); retried until it succeeds. */
  prepare?(): Promise<void>;
}

/**
 * A kafkajs consumer that keeps itself running: joins its own group from
 * "now" (no committed offset → latest), hands records over in order, and
 * comes back after broker outages of any length. kafkajs restarts after
 * retriable crashes; this class recreates the consumer after the others and
 * when fetching stalls, and tells the owner (onResumed) when records may
 * have been missed.
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
  private readonly backoff = new ReconnectBackoff(RELAUNCH_BASE_MS, RELAUNCH_MAX_MS);
  private readonly flowWaiters = new Set<() => void>();

  constructor(
    private readonly kafka: Kafka,
    private readonly options: SupervisedConsumerOptions,
    private readonly logger: Logger,
    private readonly metrics: GatewayMetrics,
  ) {
    metrics.kafkaConsumerRestarts.inc({ consumer: options.name }, 0);
  }

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
    this.generation += 1;
    const consumer = this.consumer;
    this.consumer = undefined;
    // disconnect() stops the fetch loop and sends LeaveGroup, so the group
    // is empty at once instead of after the session timeout.
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
    const { topic, groupId } = this.options;
    const consumer = this.kafka.consumer({
      groupId,
      sessionTimeout: SESSION_TIMEOUT_MS,
      rebalanceTimeout: REBALANCE_TIMEOUT_MS,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      maxWaitTimeInMs: MAX_WAIT_TIME_MS,
      minBytes: 1,
      allowAutoTopicCreation: false,
      retry: RETRY,
    });
    this.consumer = consumer;
    const current = () => generation === this.generation && !this.stopped;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (!current()) {
        // A consumer replaced while it was still joining: it must not keep
        // partitions away from its successor.
        void disconnectWithin(consumer);
        return;
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
      const { partition, offsetLag } = event.payload;
      const lag = Number(offsetLag);
      if (Number.isFinite(lag)) this.metrics.consumerLag(this.options.name, partition, lag);
    });
    consumer.on(consumer.events.CRASH, (event: ConsumerCrashEvent) => {
      if (!current()) return;
      this.joined = false;
      this.interrupted = true;
      const { error, restart } = event.payload;
      this.logger.warn({ topic, groupId, err: error.message, restart }, 'kafka consumer crashed');
      // kafkajs restarts it itself; otherwise scheduleRelaunch counts it.
      if (restart) this.metrics.kafkaConsumerRestarts.inc({ consumer: this.options.name });
      else this.scheduleRelaunch();
    });
    try {
      if (!this.prepared && this.options.prepare) {
        await this.options.prepare();
        this.prepared = true;
      }
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: false });
      await consumer.run({
        autoCommitInterval: AUTO_COMMIT_INTERVAL_MS,
        partitionsConsumedConcurrently: 1,
        eachMessage: async ({ message }) => {
          if (generation !== this.generation || !message.value) return;
          try {
            this.options.onRecord(message.value, Number(message.timestamp));
          } catch (error) {
            this.warn('record handler failed', error);
          }
        },
      });
    } catch (error) {
      if (!current()) return;
      this.interrupted = true;
      this.warn('kafka consumer could not start; retrying', error);
      this.scheduleRelaunch();
    }
  }

  private markFetched(): void {
    this.lastFetchAt = Date.now();
    for (const waiter of [...this.flowWaiters]) waiter();
    if (!this.interrupted) return;
    this.interrupted = false;
    this.backoff.reset();
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
    // Records may be missed from here on: the owner hears about it on resume.
    if (this.lastFetchAt > 0 && idleMs > FLOWING_WINDOW_MS) this.interrupted = true;
    if (this.lastFetchAt > 0 && idleMs > STALL_RECREATE_MS) {
      this.logger.warn(
        { topic: this.options.topic, idleMs },
        'kafka consumer stalled; recreating it',
      );
      this.lastFetchAt = Date.now(); // one recreation per stall window
      this.scheduleRelaunch();
    }
  }

  private scheduleRelaunch(): void {
    if (this.stopped) return;
    this.metrics.kafkaConsumerRestarts.inc({ consumer: this.options.name });
    clearTimeout(this.relaunchTimer);
    const old = this.consumer;
    this.consumer = undefined;
    this.joined = false;
    this.generation += 1; // events of the old consumer are ignored from now on
    const delayMs = this.backoff.nextDelayMs();
    this.relaunchTimer = setTimeout(() => {
      this.relaunchTimer = undefined;
      void (async () => {
        if (old) await disconnectWithin(old);
        if (!this.stopped) await this.launch();
      })();
    }, delayMs);
  }

  private warn(message: string, error: unknown): void {
    this.logger.warn(
      { topic: this.options.topic, err: error instanceof Error ? error.message : String(error) },
      message,
    );
  }
}
