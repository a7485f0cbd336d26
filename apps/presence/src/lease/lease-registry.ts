import { LeftReason, type Lease, type PresenceEvent } from '@ephemeral/protocol/presence';
import type { Logger } from '@ephemeral/logging';
import type { PresenceEventSink } from '../events/presence-event-sink';
import { leftEvent, registeredEvent } from '../events/presence-events';
import type { Clock } from './clock';
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

/**
 * The lease operations presence offers: each store change followed by the
 * event it announces (REGISTERED on a grant, LEFT/CLOSED on revoke,
 * LEFT/EXPIRED on expiry). Events are published after the change is
 * committed; a failing sink is logged and never undoes or fails the change.
 * Events of a signed-in peer carry its subject, as the store recorded it.
 */
export class LeaseRegistry {
  constructor(
    private readonly store: LeaseStore,
    private readonly events: PresenceEventSink,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async register(command: RegisterLeaseCommand): Promise<RegisterLeaseOutcome> {
    const outcome = await this.store.register(command);
    const now = this.clock.now();
    if (outcome.expiredPredecessor) {
      await this.announce(
        withSubject(
          leftEvent(outcome.expiredPredecessor, LeftReason.LEFT_REASON_EXPIRED, now),
          outcome.expiredPredecessor.subject,
        ),
      );
    }
    await this.announce(
      withSubject(
        registeredEvent(outcome.lease, outcome.resumed, now),
        command.principal?.subject || undefined,
      ),
    );
    return outcome;
  }

  keepAlive(gatewayId: string, refs: readonly LeaseRefCommand[]): Promise<KeepAliveOutcome[]> {
    return this.store.keepAlive(gatewayId, refs);
  }

  async revoke(peerId: string, fencingToken: number): Promise<SubjectLease> {
    const lease = await this.store.revoke(peerId, fencingToken);
    await this.announce(
      withSubject(leftEvent(lease, LeftReason.LEFT_REASON_CLOSED, this.clock.now()), lease.subject),
    );
    return lease;
  }

  lookup(peerId: string): Promise<Lease | null> {
    return this.store.lookup(peerId);
  }

  batchLookup(peerIds: readonly string[]): Promise<BatchLookupOutcome> {
    return this.store.batchLookup(peerIds);
  }

  listBySubject(subject: string): Promise<HeldBySubject[]> {
    return this.store.listBySubject(subject);
  }

  /** Claims up to `limit` due leases and announces each one's LEFT/EXPIRED. */
  async expireDue(limit: number): Promise<Lease[]> {
    const now = this.clock.now();
    const expired = await this.store.reapExpired(now, limit);
    for (const lease of expired) {
      await this.announce(
        withSubject(leftEvent(lease, LeftReason.LEFT_REASON_EXPIRED, now), lease.subject),
      );
    }
    return expired;
  }

  private async announce(event: PresenceEvent): Promise<void> {
    try {
      await this.events.publish(event);
    } catch (error) {
      this.logger.error(
        { err: error, peerId: event.peerId, eventType: event.type },
        'presence event not published',
      );
    }
  }
}

/** The event stamped with the subject holding the lease, where there is one. */
function withSubject(event: PresenceEvent, subject: string | undefined): PresenceEvent {
  return subject === undefined ? event : { ...event, subject };
}
