/**
 * Signal latencies of many worker processes, merged: a fixed histogram of
 * 0.1 ms buckets up to 60 s (a sparse list crosses the IPC channel), so
 * millions of samples cost a fixed 2.4 MB per worker and percentiles of the
 * whole run come out exact to the bucket.
 */
const BUCKET_MS = 0.1;
const BUCKETS = 600_000; // 60 s; slower samples land in the last one

export class LatencyHistogram {
  private readonly counts = new Uint32Array(BUCKETS + 1);
  private total = 0;

  record(ms: number): void {
    const bucket = Math.min(BUCKETS, Math.max(0, Math.floor(ms / BUCKET_MS)));
    this.counts[bucket] += 1;
    this.total += 1;
  }

  get count(): number {
    return this.total;
  }

  /** Non-empty buckets as [bucket, count] pairs. */
  toSparse(): Array<[number, number]> {
    const pairs: Array<[number, number]> = [];
    this.counts.forEach((count, bucket) => {
      if (count > 0) pairs.push([bucket, count]);
    });
    return pairs;
  }

  add(sparse: ReadonlyArray<readonly [number, number]>): void {
    for (const [bucket, count] of sparse) {
      this.counts[bucket] += count;
      this.total += count;
    }
  }

  /** The upper edge of the bucket holding the p-th percentile, in ms; NaN when empty. */
  percentile(p: number): number {
    if (this.total === 0) return NaN;
    const rank = Math.ceil((p / 100) * this.total);
    let seen = 0;
    for (let bucket = 0; bucket <= BUCKETS; bucket++) {
      seen += this.counts[bucket] ?? 0;
      if (seen >= rank) return (bucket + 1) * BUCKET_MS;
    }
    return BUCKETS * BUCKET_MS;
  }
}
