/** How much a cached answer is worth now (see OnlinePeerCache.check). */
export type CachedOnline = 'fresh' | 'stale' | 'unknown';

/** One presence lookup in flight for a peer, shared by every signal that waits for it. */
interface PendingLookup {
  answer: Promise<boolean>;
  /** A LEFT event (or a gap) came while it was in flight: its "online" must not be kept. */
  invalidated: boolean;
}

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
 *
 * Past `refreshAfterMs` an entry is `stale`: still a valid answer (it is
 * younger than `maxAgeMs`), but the caller should ask presence again in the
 * background, so a peer that keeps receiving signals never makes one wait
 * for a lookup (ADR 0026). The bound above is unchanged: an answer is only
 * ever served while younger than `maxAgeMs` since presence gave it.
 *
 * Lookups go through `lookup()`: one in flight per peer, however many
 * signals wait for it (a waiter that joined is given "online" from it, and
 * asks again itself on "not online"); and an answer that was in flight when the peer's
 * LEFT event (or a gap) arrived is returned to its waiters but not kept,
 * so it cannot outlive the event that contradicts it.
 */
export class OnlinePeerCache {
  // Insertion-ordered: the first key is the oldest entry.
  private readonly seenAt = new Map<string, number>();
  private readonly pending = new Map<string, PendingLookup>();

  constructor(
    private readonly maxAgeMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
    private readonly refreshAfterMs: number = maxAgeMs,
  ) {}

  get size(): number {
    return this.seenAt.size;
  }

  /** Lookups in flight (for specs and metrics). */
  get lookupsInFlight(): number {
    return this.pending.size;
  }

  isKnownOnline(peerId: string): boolean {
    return this.check(peerId) !== 'unknown';
  }

  /** `fresh` or `stale` (online, refresh it) when presence said so within `maxAgeMs`. */
  check(peerId: string): CachedOnline {
    const seen = this.seenAt.get(peerId);
    if (seen === undefined) return 'unknown';
    const age = this.now() - seen;
    if (age > this.maxAgeMs) {
      this.seenAt.delete(peerId);
      return 'unknown';
    }
    return age > this.refreshAfterMs ? 'stale' : 'fresh';
  }

  /**
   * Asks presence (through `ask`) whether `peerId` is online, joining the
   * lookup already in flight for it if there is one. A positive answer is
   * remembered unless the peer left meanwhile; a negative one forgets it.
   * Rejects as `ask` does.
   */
  lookup(peerId: string, ask: () => Promise<boolean>): Promise<boolean> {
    const inFlight = this.pending.get(peerId);
    // A "not online" that was asked before this signal came is not shared:
    // the peer may have connected since (negative answers are never reused).
    if (inFlight) return inFlight.answer.then((online) => online || ask());
    const pending: PendingLookup = { answer: Promise.resolve(false), invalidated: false };
    pending.answer = ask().then(
      (online) => {
        this.settle(peerId, pending);
        if (!online) this.forget(peerId);
        else if (!pending.invalidated) this.remember(peerId);
        return online;
      },
      (error: unknown) => {
        this.settle(peerId, pending);
        throw error;
      },
    );
    this.pending.set(peerId, pending);
    return pending.answer;
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
    const inFlight = this.pending.get(peerId);
    if (inFlight) inFlight.invalidated = true;
  }

  clear(): void {
    this.seenAt.clear();
    for (const inFlight of this.pending.values()) inFlight.invalidated = true;
  }

  private settle(peerId: string, pending: PendingLookup): void {
    if (this.pending.get(peerId) === pending) this.pending.delete(peerId);
  }
}
