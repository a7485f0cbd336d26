/**
 * A FIFO with a hard capacity that never blocks the producer: when full, the
 * oldest item is dropped (and counted). For events waiting for a broker that
 * is down: memory stays bounded however long the outage lasts, and the most
 * recent state changes (the ones that still matter) are the ones kept.
 */
export class BoundedEventBuffer<T> {
  private items: T[] = [];
  private head = 0;
  private droppedTotal = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer (got ${capacity})`);
    }
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /** Items dropped since the buffer was made. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Appends; returns how many old items were dropped to make room (0 or 1). */
  push(item: T): number {
    this.items.push(item);
    return this.trim();
  }

  /** Up to `max` of the oldest items, left in place until `commit`. */
  peek(max: number): T[] {
    return this.items.slice(this.head, this.head + max);
  }

  /**
   * Removes the items of a peek once they were sent. Items
   * dropped for room while the send was in flight are not removed twice: the
   * caller passes what it peeked and only those still at the head go.
   */
  commit(sent: readonly T[]): void {
    // Drops only ever take from the head, so what is left of `sent` is a
    // prefix of the buffer: skip the dropped ones, remove the rest.
    for (const item of sent) {
      if (this.size > 0 && this.items[this.head] === item) this.head += 1;
    }
    this.compact();
  }

  private trim(): number {
    let dropped = 0;
    while (this.size > this.capacity) {
      this.head += 1;
      dropped += 1;
    }
    this.droppedTotal += dropped;
    this.compact();
    return dropped;
  }

  private compact(): void {
    // Reclaim the consumed prefix once it is the larger part: O(1) amortised.
    if (this.head > 0 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
