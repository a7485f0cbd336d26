import type { Lease, Principal } from '@ephemeral/protocol/presence';

import { MAX_PEERS_PER_SUBJECT } from '../lease/lease-store';

export { MAX_PEERS_PER_SUBJECT };

interface Held {
  readonly fencingToken: number;
  readonly principal: Principal;
}

/** One peer a subject holds, as recorded at its grant. */
export interface HeldBySubject {
  readonly peerId: string;
  readonly fencingToken: number;
  readonly sharing: boolean;
}

/**
 * Who holds which lease, by person (sign-in on): the MemoryLeaseStore's
 * index, filled at each grant that carries a principal, emptied when its
 * lease ends. The store's own map stays the truth about liveness; its
 * listBySubject checks every entry against it. The Redis store keeps the
 * principal in the lease hash and a per-subject index in Redis instead
 * (ADR 0029).
 */
export class PrincipalDirectory {
  private readonly byPeer = new Map<string, Held>();
  private readonly bySubject = new Map<string, Set<string>>();

  /** A grant: `principal` holds `lease` now (or nobody does, when absent). */
  record(lease: Lease, principal: Principal | undefined): void {
    this.forgetPeer(lease.peerId);
    if (!principal?.subject) return;
    let peers = this.bySubject.get(principal.subject);
    if (!peers) {
      peers = new Set();
      this.bySubject.set(principal.subject, peers);
    }
    if (peers.size >= MAX_PEERS_PER_SUBJECT) {
      // The oldest entry goes (insertion order): it is the likeliest to be stale.
      const oldest = peers.values().next().value;
      if (oldest !== undefined) this.forgetPeer(oldest);
    }
    peers.add(lease.peerId);
    this.byPeer.set(lease.peerId, { fencingToken: lease.fencingToken, principal });
  }

  /** The subject of the grant `lease` names, if one was recorded. */
  subjectOf(lease: Lease): string | undefined {
    const held = this.byPeer.get(lease.peerId);
    return held && held.fencingToken === lease.fencingToken ? held.principal.subject : undefined;
  }

  /** The lease ended: forget it (a newer grant of the same ID is kept). */
  forget(lease: Lease): void {
    const held = this.byPeer.get(lease.peerId);
    if (held && held.fencingToken === lease.fencingToken) this.forgetPeer(lease.peerId);
  }

  peersOf(subject: string): HeldBySubject[] {
    const peers = this.bySubject.get(subject);
    if (!peers) return [];
    const out: HeldBySubject[] = [];
    for (const peerId of peers) {
      const held = this.byPeer.get(peerId);
      if (held)
        out.push({ peerId, fencingToken: held.fencingToken, sharing: held.principal.sharing });
    }
    return out;
  }

  private forgetPeer(peerId: string): void {
    const held = this.byPeer.get(peerId);
    if (!held) return;
    this.byPeer.delete(peerId);
    const peers = this.bySubject.get(held.principal.subject);
    peers?.delete(peerId);
    if (peers?.size === 0) this.bySubject.delete(held.principal.subject);
  }
}
