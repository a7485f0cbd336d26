import type { Clock } from './token-bucket';

/**
 * Counts events in the last `windowMs` and says when `limit` is reached
 * (used for "too many errors" and "sustained flooding"). Keeps at most
 * `limit` timestamps, so memory is bounded whatever the client does.
 */
export class SlidingWindowCounter {
  private readonly times: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: Clock = Date.now,
  ) {}

  /** Records one event; true when `limit` events fall within the window. */
  record(): boolean {
    const now = this.now();
    while (this.times.length > 0 && now - this.times[0] >= this.windowMs) this.times.shift();
    this.times.push(now);
    if (this.times.length > this.limit) this.times.shift();
    return this.times.length >= this.limit;
  }
}
