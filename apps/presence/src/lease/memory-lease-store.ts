import { timingSafeEqual } from 'node:crypto';
import { KeepAliveStatus, type Lease } from '@ephemeral/protocol/presence';
import type { Clock } from './clock';
import { ExpiryQueue } from './expiry-queue';
import { PrincipalDirectory } from '../principals/principal-directory';
import type {
  BatchLookupOutcome,
  HeldBySubject,
  KeepAliveOutcome,
  LeaseRefCommand,
  LeaseStore,
  RegisterLeaseCommand,
  RegisterLeaseOutcome,
  SubjectLease,
} from './lease-store';
import { LeaseStoreError, LeaseStoreErrorReason } from './lease-store-error';
import type { LeaseTtlPolicy } from './lease-ttl-policy';

interface StoredLease {
  readonly lease: Lease;
  readonly resumeTokenSha256: Buffer;
  /** Revoked leases stay until their original expiry so RESUME can reclaim them. */
  revoked: boolean;
}

const MS_PER_SECOND = 1_000;

/**
 * The embedded default: leases in a Map, expiries in a min-heap. Each method
 * runs to completion without awaiting, so every operation is atomic within
 * the one replica this store supports.
 */
export class MemoryLeaseStore implements LeaseStore {
  private readonly leases = new Map<string, StoredLease>();
  private readonly expiries = new ExpiryQueue();
  /** Who holds which lease (grants with a principal). */
  private readonly principals = new PrincipalDirectory();
  private lastFencingToken = 0;

  constructor(
    private readonly clock: Clock,
    private readonly ttlPolicy: LeaseTtlPolicy,
  ) {}

  /** Leases held in memory (live, revoked-but-resumable, expired-not-reaped). */
  get size(): number {
    return this.leases.size;
  }

  /** Entries in the expiry heap: about one per grant, however often leases renew (a metric). */
  get queuedExpiryCount(): number {
    return this.expiries.size;
  }

  async register(command: RegisterLeaseCommand): Promise<RegisterLeaseOutcome> {
    const now = this.clock.now();
    let existing = this.leases.get(command.peerId);
    let expiredPredecessor: SubjectLease | undefined;

    if (existing && existing.lease.expiresAtUnixMs <= now) {
      if (command.mode === 'resume') {
        // Never revived; the reaper announces it on its next tick.
        throw notFound(command.peerId, 'the lease has expired');
      }
      // NEW on an expired, not yet reaped ID: claim the old lease here so it is
      // announced exactly once (by our caller) and the reaper skips it.
      this.leases.delete(command.peerId);
      if (!existing.revoked) expiredPredecessor = this.ended(existing.lease);
      else this.principals.forget(existing.lease);
      existing = undefined;
    }

    if (command.mode === 'new') {
      if (existing) {
        throw new LeaseStoreError(
          LeaseStoreErrorReason.ALREADY_EXISTS,
          command.peerId,
          existing.revoked
            ? 'the ID is reserved for resume until its lease expires'
            : 'the ID already holds a live lease',
        );
      }
      return {
        ...this.grant(command, Buffer.from(command.resumeTokenSha256), now, false),
        expiredPredecessor,
      };
    }

    if (!existing) throw notFound(command.peerId, 'no live or revoked lease to resume');
    if (!sameHash(existing.resumeTokenSha256, command.resumeTokenSha256)) {
      throw new LeaseStoreError(
        LeaseStoreErrorReason.RESUME_TOKEN_MISMATCH,
        command.peerId,
        'the resume token does not match',
      );
    }
    return this.grant(command, existing.resumeTokenSha256, now, true);
  }

  async keepAlive(
    gatewayId: string,
    refs: readonly LeaseRefCommand[],
  ): Promise<KeepAliveOutcome[]> {
    const now = this.clock.now();
    return refs.map((ref) => {
      const stored = this.leases.get(ref.peerId);
      if (!stored || stored.lease.expiresAtUnixMs <= now) {
        return {
          peerId: ref.peerId,
          status: KeepAliveStatus.KEEP_ALIVE_STATUS_NOT_FOUND,
          expiresAtUnixMs: 0,
        };
      }
      if (stored.lease.fencingToken !== ref.fencingToken || stored.lease.gatewayId !== gatewayId) {
        return {
          peerId: ref.peerId,
          status: KeepAliveStatus.KEEP_ALIVE_STATUS_FENCED,
          expiresAtUnixMs: 0,
        };
      }
      if (stored.revoked) {
        return {
          peerId: ref.peerId,
          status: KeepAliveStatus.KEEP_ALIVE_STATUS_NOT_FOUND,
          expiresAtUnixMs: 0,
        };
      }
      // The heap keeps the old expiry; the reaper re-queues the entry when it
      // pops it early, so renewals cost O(1) here.
      stored.lease.expiresAtUnixMs = now + stored.lease.ttlSeconds * MS_PER_SECOND;
      return {
        peerId: ref.peerId,
        status: KeepAliveStatus.KEEP_ALIVE_STATUS_RENEWED,
        expiresAtUnixMs: stored.lease.expiresAtUnixMs,
      };
    });
  }

  async revoke(peerId: string, fencingToken: number): Promise<SubjectLease> {
    const now = this.clock.now();
    const stored = this.leases.get(peerId);
    if (!stored || stored.lease.expiresAtUnixMs <= now) throw notFound(peerId, 'no live lease');
    if (stored.lease.fencingToken !== fencingToken) {
      throw new LeaseStoreError(
        LeaseStoreErrorReason.FENCED,
        peerId,
        `fencing token ${fencingToken} is stale (current ${stored.lease.fencingToken})`,
      );
    }
    if (stored.revoked) throw notFound(peerId, 'the lease is already revoked');
    // Keep the record (and its original expiry) so RESUME can reclaim the ID.
    stored.revoked = true;
    return this.ended(stored.lease);
  }

  async lookup(peerId: string): Promise<Lease | null> {
    const stored = this.leases.get(peerId);
    return stored && this.isOnline(stored, this.clock.now()) ? { ...stored.lease } : null;
  }

  async batchLookup(peerIds: readonly string[]): Promise<BatchLookupOutcome> {
    const now = this.clock.now();
    const leases: Lease[] = [];
    const missing: string[] = [];
    for (const peerId of new Set(peerIds)) {
      const stored = this.leases.get(peerId);
      if (stored && this.isOnline(stored, now)) leases.push({ ...stored.lease });
      else missing.push(peerId);
    }
    return { leases, missing };
  }

  async reapExpired(nowUnixMs: number, limit: number): Promise<SubjectLease[]> {
    const expired: SubjectLease[] = [];
    for (
      let due = this.expiries.peek();
      due && due.expiresAtUnixMs <= nowUnixMs;
      due = this.expiries.peek()
    ) {
      if (expired.length >= limit) break;
      this.expiries.pop();
      const stored = this.leases.get(due.peerId);
      // A newer grant replaced this one (or it was already claimed): stale entry.
      if (!stored || stored.lease.fencingToken !== due.fencingToken) continue;
      if (stored.lease.expiresAtUnixMs > nowUnixMs) {
        // Renewed since it was queued: queue it again at its current expiry.
        this.expiries.push({ ...due, expiresAtUnixMs: stored.lease.expiresAtUnixMs });
        continue;
      }
      this.leases.delete(due.peerId);
      if (!stored.revoked) expired.push(this.ended(stored.lease));
      else this.principals.forget(stored.lease);
    }
    return expired;
  }

  async listBySubject(subject: string): Promise<HeldBySubject[]> {
    const now = this.clock.now();
    const held: HeldBySubject[] = [];
    for (const entry of this.principals.peersOf(subject)) {
      const stored = this.leases.get(entry.peerId);
      // Only the grant recorded, still online: an ID granted again is not
      // this person's unless that grant said so too.
      if (stored && stored.lease.fencingToken === entry.fencingToken && this.isOnline(stored, now))
        held.push({ lease: { ...stored.lease }, sharing: entry.sharing });
    }
    return held;
  }

  /** One pass over the map: O(n) per scrape, fine for the one-replica embedded mode. */
  async countHeld(nowUnixMs: number): Promise<number> {
    let held = 0;
    for (const stored of this.leases.values()) {
      if (stored.lease.expiresAtUnixMs > nowUnixMs) held += 1;
    }
    return held;
  }

  private grant(
    command: RegisterLeaseCommand,
    resumeTokenSha256: Buffer,
    now: number,
    resumed: boolean,
  ): RegisterLeaseOutcome {
    const ttlSeconds = this.ttlPolicy.resolve(command.requestedTtlSeconds);
    const lease: Lease = {
      peerId: command.peerId,
      gatewayId: command.gatewayId,
      fencingToken: ++this.lastFencingToken,
      ttlSeconds,
      expiresAtUnixMs: now + ttlSeconds * MS_PER_SECOND,
      registeredAtUnixMs: now,
    };
    this.leases.set(command.peerId, { lease, resumeTokenSha256, revoked: false });
    this.principals.record(lease, command.principal);
    this.expiries.push({
      expiresAtUnixMs: lease.expiresAtUnixMs,
      peerId: lease.peerId,
      fencingToken: lease.fencingToken,
    });
    return { lease: { ...lease }, resumed };
  }

  /** A copy of an ending lease with its subject, which the index then forgets. */
  private ended(lease: Lease): SubjectLease {
    const subject = this.principals.subjectOf(lease);
    this.principals.forget(lease);
    return subject === undefined ? { ...lease } : { ...lease, subject };
  }

  private isOnline(stored: StoredLease, now: number): boolean {
    return !stored.revoked && stored.lease.expiresAtUnixMs > now;
  }
}

function notFound(peerId: string, message: string): LeaseStoreError {
  return new LeaseStoreError(LeaseStoreErrorReason.NOT_FOUND, peerId, message);
}

/** Constant-time, so response timing does not leak how much of a hash matched. */
function sameHash(stored: Buffer, offered: Uint8Array): boolean {
  return stored.length === offered.length && timingSafeEqual(stored, offered);
}
