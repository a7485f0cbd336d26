/**
 * Remembers, briefly, which remote peers presence said were online, so a
 * burst of signals to one peer (an offer, then a dozen ICE candidates) costs
 * one presence lookup instead of one each.
 *
 * Only positive answers are kept: a peer that just connected is never turned
 * away by a stale "not found". An entry ends when presence reports the peer
 * LEFT (the event stream the gateway already follows for peer-left), when
 * the stream had a gap (everything is dropped), or after `maxAgeMs` — which
 * bounds how long a missed LEFT event can make a signal go to a peer that has
 * gone (the sender then hears peer-left instead of PEER_NOT_FOUND).
 */
export class OnlinePeerCache {
  // Insertion-ordered: the first key is the oldest entry.
  private readonly seenAt = new Map<string, number>();

  constructor(
    private readonly maxAgeMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.seenAt.size;
  }

  isKnownOnline(peerId: string): boolean {
    const seen = this.seenAt.get(peerId);
    if (seen === undefined) return false;
    if (this.now() - seen > this.maxAgeMs) {
      this.seenAt.delete(peerId);
      return false;
    }
    return true;
  }

  remember(peerId: string): void {
    this.seenAt.delete(peerId);
    this.seenAt.set(peerId, this.now());
    if (this.seenAt.size > this.maxEntries) {
      const oldest = this.seenAt.keys().next();
      if (!oldest.done) this.seenAt.delete(oldest.value);
    }
  }

  forget(peerId: string): void {
    this.seenAt.delete(peerId);
  }

  clear(): void {
    this.seenAt.clear();
  }
}
