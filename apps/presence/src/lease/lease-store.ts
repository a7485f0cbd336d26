import type { KeepAliveStatus, Lease, Principal } from '@ephemeral/protocol/presence';

export {
  LeaseStoreError,
  LeaseStoreErrorReason,
  LeaseStoreUnavailableError,
} from './lease-store-error';

export interface RegisterLeaseCommand {
  readonly peerId: string;
  readonly gatewayId: string;
  /** As requested; the store clamps it with its TTL policy (0 = default). */
  readonly requestedTtlSeconds: number;
  readonly mode: 'new' | 'resume';
  /** SHA-256 of the client's resume token, 32 bytes. */
  readonly resumeTokenSha256: Uint8Array;
  /** Who the peer is (sign-in on): stored with the lease, for by-person queries. */
  readonly principal?: Principal;
}

/**
 * A lease as the store hands it back when it ends (revoke, reap, a claimed
 * predecessor): with the subject that held it, where its gateway said, so
 * the LEFT event can name the person. Absent for anonymous peers.
 */
export type SubjectLease = Lease & { readonly subject?: string };

/** One live lease a subject holds (ListBySubject). */
export interface HeldBySubject {
  readonly lease: Lease;
  /** The peer hosts a share (its gateway said so at the grant). */
  readonly sharing: boolean;
}

// Leases one subject is listed with: far more tabs than a person opens, and a
// bound on what one answer (and one misbehaving gateway) can cost. A subject
// with more keeps its newest grants.
export const MAX_PEERS_PER_SUBJECT = 256;

export interface RegisterLeaseOutcome {
  readonly lease: Lease;
  /** The ID was reclaimed with its resume token. */
  readonly resumed: boolean;
  /**
   * An expired lease of the same ID that the reaper had not claimed yet. The
   * register call claimed it instead (so the reaper never returns it), and the
   * caller must announce its LEFT(EXPIRED) before the new REGISTERED.
   */
  readonly expiredPredecessor?: SubjectLease;
}

export interface LeaseRefCommand {
  readonly peerId: string;
  readonly fencingToken: number;
}

export interface KeepAliveOutcome {
  readonly peerId: string;
  readonly status:
    | KeepAliveStatus.KEEP_ALIVE_STATUS_RENEWED
    | KeepAliveStatus.KEEP_ALIVE_STATUS_NOT_FOUND
    | KeepAliveStatus.KEEP_ALIVE_STATUS_FENCED;
  /** The new expiry when renewed, 0 otherwise. */
  readonly expiresAtUnixMs: number;
}

export interface BatchLookupOutcome {
  readonly leases: Lease[];
  readonly missing: string[];
}

/**
 * Where leases live. Every method is async and every state change is one
 * atomic step, so a Redis implementation (Lua scripts, shared by several
 * presence replicas) fits this interface unchanged.
 *
 * Semantics (see docs/decisions/0001-lease-semantics.md):
 * - Fencing tokens come from one counter per store and grow on every grant
 *   (NEW or RESUME), so a token is never reused, even for a re-registered ID.
 * - A lease is online from its grant until it expires or is revoked.
 * - A revoked lease can be reclaimed with RESUME and its resume token until its
 *   original expiry, but is not online meanwhile.
 * - An expired lease is never revived: RESUME answers NOT_FOUND.
 * Refusals reject with a LeaseStoreError carrying a reason; a store that
 * cannot be reached rejects with LeaseStoreUnavailableError (retry later).
 */
export interface LeaseStore {
  /** Grants a lease (NEW or RESUME) with a fresh fencing token. */
  register(command: RegisterLeaseCommand): Promise<RegisterLeaseOutcome>;

  /**
   * Renews every referenced lease held by `gatewayId` with its current fencing
   * token, for its TTL from now. One outcome per ref, in order.
   */
  keepAlive(gatewayId: string, refs: readonly LeaseRefCommand[]): Promise<KeepAliveOutcome[]>;

  /**
   * Ends a lease now and returns it. Rejects FENCED for a stale token and
   * NOT_FOUND when there is no live lease.
   */
  revoke(peerId: string, fencingToken: number): Promise<SubjectLease>;

  /** The live lease of `peerId`, or null. */
  lookup(peerId: string): Promise<Lease | null>;

  /** The live leases among `peerIds` (first occurrence order) and the rest. */
  batchLookup(peerIds: readonly string[]): Promise<BatchLookupOutcome>;

  /**
   * Claims up to `limit` leases whose expiry is at or before `nowUnixMs` and
   * returns those that were live (revoked ones are dropped silently: their
   * LEFT was announced at revoke). Each expired lease is returned by exactly
   * one call, across every replica sharing the store.
   */
  reapExpired(nowUnixMs: number, limit: number): Promise<SubjectLease[]>;

  /**
   * The live leases granted with `subject`'s principal, oldest grant first,
   * at most MAX_PEERS_PER_SUBJECT (the newest). A lease that ended, or whose
   * ID was granted again without that principal, is not listed.
   */
  listBySubject(subject: string): Promise<HeldBySubject[]>;

  /**
   * How many leases expire after `nowUnixMs`: the live ones plus revoked ones
   * still reserved for RESUME (a metric, so cheap rather than exact: revoked
   * leases are few and last at most one TTL).
   */
  countHeld(nowUnixMs: number): Promise<number>;
}
