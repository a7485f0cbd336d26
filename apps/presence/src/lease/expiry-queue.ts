export interface ExpiryEntry {
  readonly expiresAtUnixMs: number;
  readonly peerId: string;
  /** Which grant this entry was pushed for; a newer grant makes it stale. */
  readonly fencingToken: number;
}

/**
 * Binary min-heap of lease expiries, so the reaper looks only at leases that
 * are due (O(log n) each) instead of scanning every lease on every tick.
 * Entries are never removed early: the store checks each popped entry against
 * the current lease and skips stale ones (lazy deletion).
 */
export class ExpiryQueue {
  private readonly heap: ExpiryEntry[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(entry: ExpiryEntry): void {
    this.heap.push(entry);
    this.siftUp(this.heap.length - 1);
  }

  peek(): ExpiryEntry | undefined {
    return this.heap[0];
  }

  pop(): ExpiryEntry | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (top === undefined || last === undefined) return undefined;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private siftUp(index: number): void {
    let child = index;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (this.heap[parent].expiresAtUnixMs <= this.heap[child].expiresAtUnixMs) return;
      this.swap(parent, child);
      child = parent;
    }
  }

  private siftDown(index: number): void {
    let parent = index;
    for (;;) {
      const left = 2 * parent + 1;
      const right = left + 1;
      let smallest = parent;
      if (
        left < this.heap.length &&
        this.heap[left].expiresAtUnixMs < this.heap[smallest].expiresAtUnixMs
      ) {
        smallest = left;
      }
      if (
        right < this.heap.length &&
        this.heap[right].expiresAtUnixMs < this.heap[smallest].expiresAtUnixMs
      ) {
        smallest = right;
      }
      if (smallest === parent) return;
      this.swap(parent, smallest);
      parent = smallest;
    }
  }

  private swap(a: number, b: number): void {
    const held = this.heap[a];
    this.heap[a] = this.heap[b];
    this.heap[b] = held;
  }
}
