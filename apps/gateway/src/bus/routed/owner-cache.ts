import type { PresenceClient } from '../../presence/presence-client';

// How long a looked-up owner is reused. A peer that resumes on another
// gateway within this window gets its records via the old owner, which
// passes them on (RoutedSignalBus.notHere); one second keeps a chatty
// sender to one Lookup per target per second.
const OWNER_TTL_MS = 1_000;
// Entries are dropped when they expire; past this many the map is cleared
// (a flood of distinct targets must not grow it without bound).
const MAX_ENTRIES = 100_000;

/** Which gateway holds a peer, from its presence lease, briefly cached. */
export class OwnerCache {
  private readonly owners = new Map<string, { gatewayId: string; until: number }>();
  private sweepAt = 0;

  constructor(private readonly presence: PresenceClient) {}

  /** The gateway holding `peerId`'s lease, or undefined when it is offline; rejects when presence fails. */
  async gatewayOf(peerId: string): Promise<string | undefined> {
    const now = Date.now();
    const cached = this.owners.get(peerId);
    if (cached && cached.until > now) return cached.gatewayId;
    const lease = await this.presence.lookup(peerId);
    if (!lease) {
      this.owners.delete(peerId);
      return undefined;
    }
    this.sweep(now);
    this.owners.set(peerId, { gatewayId: lease.gatewayId, until: now + OWNER_TTL_MS });
    return lease.gatewayId;
  }

  private sweep(now: number): void {
    if (this.owners.size >= MAX_ENTRIES) this.owners.clear();
    if (now < this.sweepAt) return;
    this.sweepAt = now + OWNER_TTL_MS;
    for (const [peerId, entry] of this.owners) if (entry.until <= now) this.owners.delete(peerId);
  }
}
