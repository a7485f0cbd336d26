/** Milliseconds since some fixed point; injected so tests control time. */
export type Clock = () => number;

/**
 * The tokens a bucket holds `elapsedMs` after it held `tokens`: refilled
 * at `ratePerSecond`, never above `burst`. The one formula for TokenBucket
 * and for the buckets kept as plain fields (PeerSession's frame rate).
 */
export function refilledTokens(
  tokens: number,
  elapsedMs: number,
  ratePerSecond: number,
  burst: number,
): number {
  if (elapsedMs <= 0) return tokens;
  return Math.min(burst, tokens + (elapsedMs * ratePerSecond) / 1000);
}

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
    if (now <= this.lastRefill) return;
    this.tokens = refilledTokens(
      this.tokens,
      now - this.lastRefill,
      this.ratePerSecond,
      this.burst,
    );
    this.lastRefill = now;
  }
}
