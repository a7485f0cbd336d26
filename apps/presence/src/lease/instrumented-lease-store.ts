import { KeepAliveStatus, type Lease } from '@ephemeral/protocol/presence';
import type { PresenceMetrics } from '../metrics/presence-metrics';
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
import { LeaseStoreError, LeaseStoreUnavailableError } from './lease-store-error';

const KEEP_ALIVE_STATUS_LABEL: Record<KeepAliveOutcome['status'], string> = {
  [KeepAliveStatus.KEEP_ALIVE_STATUS_RENEWED]: 'renewed',
  [KeepAliveStatus.KEEP_ALIVE_STATUS_NOT_FOUND]: 'not_found',
  [KeepAliveStatus.KEEP_ALIVE_STATUS_FENCED]: 'fenced',
};

/**
 * Any LeaseStore, counted: grants, revokes, expiries and keepalive outcomes
 * from what the store answered, and every failed call by operation and
 * reason. One decorator for both stores, so the lease code stays free of
 * metrics calls and memory and Redis report the same way.
 */
export class InstrumentedLeaseStore implements LeaseStore {
  constructor(
    private readonly store: LeaseStore,
    private readonly metrics: PresenceMetrics,
  ) {}

  async register(command: RegisterLeaseCommand): Promise<RegisterLeaseOutcome> {
    const outcome = await this.counted('register', () => this.store.register(command));
    this.metrics.leasesGranted.inc({ mode: outcome.resumed ? 'resume' : 'new' });
    // Claimed here instead of by the reaper: announced as expired by this replica.
    if (outcome.expiredPredecessor) this.metrics.leasesExpired.inc();
    return outcome;
  }

  async keepAlive(
    gatewayId: string,
    refs: readonly LeaseRefCommand[],
  ): Promise<KeepAliveOutcome[]> {
    const outcomes = await this.counted('keep_alive', () => this.store.keepAlive(gatewayId, refs));
    const counts = new Map<string, number>();
    for (const { status } of outcomes) {
      const label = KEEP_ALIVE_STATUS_LABEL[status];
      counts.set(label, (counts.get(label) ?? 0) + 1);
    }
    // One inc per status, not per lease: a batch is up to 1000 refs.
    for (const [status, count] of counts) this.metrics.keepAliveResults.inc({ status }, count);
    return outcomes;
  }

  async revoke(peerId: string, fencingToken: number): Promise<SubjectLease> {
    const lease = await this.counted('revoke', () => this.store.revoke(peerId, fencingToken));
    this.metrics.leasesRevoked.inc();
    return lease;
  }

  lookup(peerId: string): Promise<Lease | null> {
    return this.counted('lookup', () => this.store.lookup(peerId));
  }

  batchLookup(peerIds: readonly string[]): Promise<BatchLookupOutcome> {
    return this.counted('batch_lookup', () => this.store.batchLookup(peerIds));
  }

  async reapExpired(nowUnixMs: number, limit: number): Promise<SubjectLease[]> {
    const expired = await this.counted('reap_expired', () =>
      this.store.reapExpired(nowUnixMs, limit),
    );
    if (expired.length > 0) this.metrics.leasesExpired.inc(expired.length);
    return expired;
  }

  listBySubject(subject: string): Promise<HeldBySubject[]> {
    return this.counted('list_by_subject', () => this.store.listBySubject(subject));
  }

  countHeld(nowUnixMs: number): Promise<number> {
    return this.counted('count_held', () => this.store.countHeld(nowUnixMs));
  }

  private async counted<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      this.metrics.leaseStoreErrors.inc({ operation, reason: errorReason(error) });
      throw error;
    }
  }
}

/** A small fixed set of label values: the refusal reasons, unavailable, internal. */
function errorReason(error: unknown): string {
  if (error instanceof LeaseStoreError) return error.reason.toLowerCase();
  if (error instanceof LeaseStoreUnavailableError) return 'unavailable';
  return 'internal';
}
