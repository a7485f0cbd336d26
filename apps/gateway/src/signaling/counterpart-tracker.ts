/**
 * One local peer's counterparts, least recently used first, and which was
 * used last: a relayed signal touches its pair twice (sender to target when
 * sent, target to sender when delivered here), and an offer's dozen
 * candidates go to the same peer, so the pair that was used last is the one
 * used again nearly always. Re-inserting it (a delete, an add, and a lookup
 * of the reverse link) was ~3 % of the gateway's busy CPU at 4 000
 * signals/s; comparing with the last one is a field read (ADR 0038).
 */
class Counterparts extends Set<string> {
  mostRecent: string | undefined;

  override add(counterpart: string): this {
    this.mostRecent = counterpart;
    return super.add(counterpart);
  }

  override delete(counterpart: string): boolean {
    if (counterpart === this.mostRecent) this.mostRecent = undefined;
    return super.delete(counterpart);
  }
}

/**
 * Remembers, for each peer connected here, the peers it exchanged signals
 * with (sent to or received from), so they can be told when one leaves.
 * Each local peer keeps at most `maxPerPeer` counterparts (the least recently
 * used is forgotten first): a sender with many receivers stays bounded.
 */
export class CounterpartTracker {
  /** local peer → its counterparts, in least-recently-used order. */
  private readonly byLocal = new Map<string, Counterparts>();
  /** counterpart → the local peers that know it. */
  private readonly byCounterpart = new Map<string, Set<string>>();

  constructor(private readonly maxPerPeer: number) {}

  /** `local` (connected here) exchanged a signal with `counterpart`. */
  add(local: string, counterpart: string): void {
    if (local === counterpart) return;
    let counterparts = this.byLocal.get(local);
    // Already the most recent, and linked both ways: nothing would change.
    if (counterparts?.mostRecent === counterpart) return;
    if (!counterparts) {
      counterparts = new Counterparts();
      this.byLocal.set(local, counterparts);
    }
    // Re-insert to move it to the most recently used end.
    counterparts.delete(counterpart);
    counterparts.add(counterpart);
    this.link(counterpart, local);
    if (counterparts.size > this.maxPerPeer) {
      const oldest = counterparts.values().next().value;
      if (oldest !== undefined) {
        counterparts.delete(oldest);
        this.unlink(oldest, local);
      }
    }
  }

  /** The local peers that had `counterpart` as a counterpart. */
  localPeersOf(counterpart: string): string[] {
    return [...(this.byCounterpart.get(counterpart) ?? [])];
  }

  counterpartsOf(local: string): string[] {
    return [...(this.byLocal.get(local) ?? [])];
  }

  /** Every counterpart any local peer knows (for a resync after missed events). */
  allCounterparts(): string[] {
    return [...this.byCounterpart.keys()];
  }

  /** `peerId` left: drop it both as a local peer and as anyone's counterpart. */
  forgetPeer(peerId: string): void {
    for (const counterpart of this.byLocal.get(peerId) ?? []) this.unlink(counterpart, peerId);
    this.byLocal.delete(peerId);
    for (const local of this.byCounterpart.get(peerId) ?? [])
      this.byLocal.get(local)?.delete(peerId);
    this.byCounterpart.delete(peerId);
  }

  /** A local peer's socket is gone: forget what it knew (others may still know it). */
  forgetLocal(local: string): void {
    for (const counterpart of this.byLocal.get(local) ?? []) this.unlink(counterpart, local);
    this.byLocal.delete(local);
  }

  private link(counterpart: string, local: string): void {
    let locals = this.byCounterpart.get(counterpart);
    if (!locals) {
      locals = new Set();
      this.byCounterpart.set(counterpart, locals);
    }
    locals.add(local);
  }

  private unlink(counterpart: string, local: string): void {
    const locals = this.byCounterpart.get(counterpart);
    if (!locals) return;
    locals.delete(local);
    if (locals.size === 0) this.byCounterpart.delete(counterpart);
  }
}
