/**
 * The server decides every lease's TTL: a requested value is clamped to the
 * configured bounds, and 0 (the proto default, "no preference") means the
 * configured default. Clients cannot hold an ID longer than operators allow.
 */
export class LeaseTtlPolicy {
  constructor(
    readonly defaultSeconds: number,
    readonly minSeconds: number,
    readonly maxSeconds: number,
  ) {
    if (!(minSeconds >= 1 && minSeconds <= defaultSeconds && defaultSeconds <= maxSeconds)) {
      throw new RangeError(
        `lease TTL bounds must satisfy 1 <= min <= default <= max (got ${minSeconds}, ${defaultSeconds}, ${maxSeconds})`,
      );
    }
  }

  resolve(requestedSeconds: number): number {
    if (requestedSeconds === 0) return this.defaultSeconds;
    return Math.min(this.maxSeconds, Math.max(this.minSeconds, Math.floor(requestedSeconds)));
  }
}
