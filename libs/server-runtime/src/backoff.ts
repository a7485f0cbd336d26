/**
 * Exponential backoff with equal jitter, for every retry loop of the server
 * processes (a broken stream, a producer that cannot connect, a crashed
 * consumer, a failed send). The ceiling doubles from `baseMs` up to `maxMs`;
 * each delay is half the ceiling plus a random share of the other half, so
 * it lies in [ceiling / 2, ceiling].
 *
 * Equal, not full, jitter (ADR 0010): the random half spreads many gateways
 * or replicas out so they do not come back to a recovering presence, broker
 * or Redis in step, and the fixed half keeps a floor under every delay, so a
 * retry never comes right after the failure it follows (full jitter can pick
 * 0 ms) and a failing call is never retried in a tight loop.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    /** A number in [0, 1): Math.random, or a fixed sequence in specs. */
    private readonly random: () => number = Math.random,
  ) {
    if (!(baseMs > 0) || !(maxMs >= baseMs)) {
      throw new RangeError(`backoff needs 0 < baseMs <= maxMs (got ${baseMs}, ${maxMs})`);
    }
  }

  /** The delay before the next attempt; each call counts one more failure. */
  nextDelayMs(): number {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** this.attempt);
    // Capped so 2 ** attempt never overflows, however long an outage lasts.
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  /** A success: the next failure starts again from `baseMs`. */
  reset(): void {
    this.attempt = 0;
  }
}
