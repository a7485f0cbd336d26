/** The peers of `peerIds` that presence says are online. */
export type LookUpMany = (peerIds: string[]) => Promise<ReadonlySet<string>>;

interface Waiter {
  peerId: string;
  resolve: (online: boolean) => void;
  reject: (error: unknown) => void;
}

/**
 * Online checks that may wait a little, gathered into one call for many
 * peers (a BatchLookup): the online-peer cache's background refreshes
 * (ADR 0026), one per busy target and second. Asked one by one, each was a
 * unary gRPC call whose client-side cost (call set-up, metadata, HTTP/2
 * stream) was 8–10 % of the gateway's busy CPU at 4 000 signals/s over 100 targets
 * (ADR 0038); gathered over `windowMs`, a few calls a second carry them.
 *
 * A check waits at most `windowMs` before its call starts, or less when
 * `maxBatch` checks wait. It resolves with whether its peer is online and
 * rejects, with every check of its call, when the call fails.
 */
export class BatchedLookups {
  private waiting: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly lookUpMany: LookUpMany,
    private readonly windowMs: number,
    private readonly maxBatch: number,
  ) {}

  /** Checks waiting for their call to start (for specs). */
  get size(): number {
    return this.waiting.length;
  }

  isOnline(peerId: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ peerId, resolve, reject });
      if (this.waiting.length >= this.maxBatch) this.flush();
      else if (this.timer === undefined) {
        this.timer = setTimeout(() => this.flush(), this.windowMs);
        // Nothing to wait for at shutdown: a refresh is worth nothing then.
        this.timer.unref();
      }
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting;
    this.waiting = [];
    let answer: Promise<ReadonlySet<string>>;
    try {
      answer = this.lookUpMany(batch.map((waiter) => waiter.peerId));
    } catch (error) {
      answer = Promise.reject(error);
    }
    answer.then(
      (online) => {
        for (const waiter of batch) waiter.resolve(online.has(waiter.peerId));
      },
      (error: unknown) => {
        for (const waiter of batch) waiter.reject(error);
      },
    );
  }
}
