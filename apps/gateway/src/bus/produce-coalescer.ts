export interface ProduceCoalescerOptions {
  /** Most records in one request. */
  maxRecords: number;
  /**
   * Most bytes (keys + values) in one request. Keep it under the broker's
   * `message.max.bytes` (1 MiB by default), which bounds each partition's
   * batch; a single record larger than this still goes, alone.
   */
  maxBytes: number;
  /**
   * Every send() settles within this: a record not acknowledged by then is
   * failed with `timeoutError()`, and if it is still queued it is never
   * sent. A request that has not settled after this long also frees its
   * slot, so a request kafkajs is still retrying cannot hold up the queue.
   */
  timeoutMs: number;
  timeoutError: () => Error;
  /** Called with the record count of every request sent (for metrics). */
  onRequest?: (records: number) => void;
}

interface Waiting<M> {
  message: M;
  bytes: number;
  /** Date.now() after which the record is no longer sent. */
  deadline: number;
  settled: boolean;
  timer: NodeJS.Timeout;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Sends records one request at a time, and sends the records that arrive
 * while a request is in flight together in the next one. At low load every
 * record goes out at once, alone (no added latency); under load, requests
 * carry as many records as arrived during one broker round trip, so the
 * request rate stays near 1 / round trip however many records there are.
 * kafkajs on its own sends one produce request per send() call.
 *
 * One request in flight also keeps records in the order send() was called,
 * retries included (a later request never overtakes an earlier one), except
 * after a request timed out, whose records were already reported failed.
 *
 * Each send() settles when the request carrying its record does, or fails
 * after `timeoutMs`, whichever comes first.
 */
export class ProduceCoalescer<M> {
  private readonly queue: Array<Waiting<M>> = [];
  private inFlight = false;

  constructor(
    private readonly sendBatch: (messages: M[]) => Promise<unknown>,
    private readonly options: ProduceCoalescerOptions,
  ) {}

  /** Records waiting for a request. */
  get queued(): number {
    return this.queue.length;
  }

  /** Produces `message` (`bytes` = key + value size); settles with its request. */
  send(message: M, bytes: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiting: Waiting<M> = {
        message,
        bytes,
        deadline: Date.now() + this.options.timeoutMs,
        settled: false,
        timer: setTimeout(() => {
          const queuedAt = this.queue.indexOf(waiting);
          if (queuedAt >= 0) this.queue.splice(queuedAt, 1);
          this.settle(waiting, { error: this.options.timeoutError() });
        }, this.options.timeoutMs),
        resolve,
        reject,
      };
      this.queue.push(waiting);
      this.next();
    });
  }

  /** Fails every record still queued (on shutdown); the one request in flight runs on. */
  failQueued(error: Error): void {
    for (const waiting of this.queue.splice(0)) this.settle(waiting, { error });
  }

  private settle(waiting: Waiting<M>, outcome: { error?: unknown }): void {
    if (waiting.settled) return;
    waiting.settled = true;
    clearTimeout(waiting.timer);
    if ('error' in outcome) waiting.reject(outcome.error);
    else waiting.resolve();
  }

  private next(): void {
    if (this.inFlight) return;
    const batch = this.takeBatch();
    if (batch.length === 0) return;
    this.inFlight = true;
    let done = false;
    const finish = (outcome: { error?: unknown }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const waiting of batch) this.settle(waiting, outcome);
      this.inFlight = false;
      this.next();
    };
    const timer = setTimeout(
      () => finish({ error: this.options.timeoutError() }),
      this.options.timeoutMs,
    );
    this.options.onRequest?.(batch.length);
    let sending: Promise<unknown>;
    try {
      sending = this.sendBatch(batch.map((waiting) => waiting.message));
    } catch (error) {
      sending = Promise.reject(error);
    }
    sending.then(
      () => finish({}),
      (error: unknown) => finish({ error }),
    );
  }

  private takeBatch(): Array<Waiting<M>> {
    // Its timer may not have fired yet in this turn: never send a record
    // whose sender is being told it failed.
    const now = Date.now();
    let expired = 0;
    while (expired < this.queue.length && this.queue[expired].deadline <= now) expired += 1;
    for (const waiting of this.queue.splice(0, expired)) {
      this.settle(waiting, { error: this.options.timeoutError() });
    }
    let bytes = 0;
    let count = 0;
    for (const waiting of this.queue) {
      if (count === this.options.maxRecords) break;
      if (count > 0 && bytes + waiting.bytes > this.options.maxBytes) break;
      bytes += waiting.bytes;
      count += 1;
    }
    return this.queue.splice(0, count);
  }
}
