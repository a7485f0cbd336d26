/**
 * Open Watch streams per caller (callerKey), capped: every event is written
 * to every stream, so one caller opening streams without end would make
 * presence do that much work per event for it.
 */
export class WatchStreamQuota {
  private readonly open = new Map<string, number>();

  constructor(readonly maxPerCaller: number) {
    if (!Number.isInteger(maxPerCaller) || maxPerCaller < 1) {
      throw new RangeError(`maxPerCaller must be a positive integer (got ${maxPerCaller})`);
    }
  }

  /** Streams `key` holds now. */
  openFor(key: string): number {
    return this.open.get(key) ?? 0;
  }

  /**
   * Takes one of `key`'s slots: a release function (calling it again does
   * nothing), or null when `key` already holds maxPerCaller streams.
   */
  acquire(key: string): (() => void) | null {
    const held = this.openFor(key);
    if (held >= this.maxPerCaller) return null;
    this.open.set(key, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.openFor(key) - 1;
      if (left > 0) this.open.set(key, left);
      else this.open.delete(key);
    };
  }
}
