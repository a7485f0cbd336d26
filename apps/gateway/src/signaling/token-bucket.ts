/** Milliseconds since some fixed point; injected so tests control time. */
export type Clock = () => number;

/**
 * A rate limit: `ratePerSecond` tokens refill continuously up to `burst`;
 * each message takes one (or, for a byte budget, its size).
 */
export class TokenBucket {
  private tokens: number;
  private lastRefill: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: Clock = Date.now,
  ) {
    this.tokens = burst;
    this.lastRefill = now();
  }

  /** Takes `count` tokens if that many are available (all or none). */
  tryTake(count = 1): boolean {
    this.refill();
    if (this.tokens < count) return false;
    this.tokens -= count;
    return true;
  }

  /** Tokens available now. */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Refilled to the burst: forgetting this bucket loses nothing. */
  isFull(): boolean {
    return this.available() >= this.burst;
  }

  private refill(): void {
    const now = this.now();
    const elapsed = now - this.lastRefill;
    if (elapsed <= 0) return;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    this.lastRefill = now;
  }
}
