// Speed is smoothed over a few seconds so the figure does not jump with every
// buffer flush; one-second samples, weight 0.3 for the newest.
const SAMPLE_MS = 1000;
const SMOOTHING = 0.3;

/** Bytes per second and time left for one transfer (or the sum of several). */
export class RateMeter {
  private lastAt: number;
  private lastBytes = 0;
  private rate = 0;

  constructor(private readonly now: () => number = () => Date.now()) {
    this.lastAt = now();
  }

  /** Records the total bytes so far; returns the smoothed bytes/second. */
  update(totalBytes: number): number {
    const at = this.now();
    const elapsed = at - this.lastAt;
    if (elapsed >= SAMPLE_MS) {
      const sample = ((totalBytes - this.lastBytes) * 1000) / elapsed;
      this.rate = this.rate === 0 ? sample : this.rate + SMOOTHING * (sample - this.rate);
      this.lastAt = at;
      this.lastBytes = totalBytes;
    }
    return this.rate;
  }

  get bytesPerSecond(): number {
    return this.rate;
  }

  /** Seconds left for `remainingBytes`, or null while the rate is unknown. */
  secondsLeft(remainingBytes: number): number | null {
    if (remainingBytes <= 0) return 0;
    return this.rate > 0 ? remainingBytes / this.rate : null;
  }

  /** Starts over from `totalBytes` (after a resume the offset is not new speed). */
  reset(totalBytes = 0): void {
    this.lastAt = this.now();
    this.lastBytes = totalBytes;
    this.rate = 0;
  }
}
