import { LeftReason, type Lease, type PresenceEvent } from '@ephemeral/protocol/presence';
import type { Logger } from '@ephemeral/logging';
import type { PresenceEventSink } from '../events/presence-event-sink';
import type { PrincipalDirectory } from '../principals/principal-directory';
import { leftEvent, registeredEvent } from '../events/presence-events';
import type { Clock } from './clock';
import type {
  BatchLookupOutcome,
  KeepAliveOutcome,
  LeaseRefCommand,
  LeaseStore,
  RegisterLeaseCommand,
  RegisterLeaseOutcome,
} from './lease-store';

/**
 * The lease operations presence offers: each store change followed by the
 * event it announces (REGISTERED on a grant, LEFT/CLOSED on revoke,
 * LEFT/EXPIRED on expiry). Events are published after the change is
 * committed; a failing sink is logged and never undoes or fails the change.
 */
export class LeaseRegistry {
  constructor(
    private readonly store: LeaseStore,
    private readonly events: PresenceEventSink,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Who holds which lease (sign-in on); null where presence does not offer it. */
    private readonly principals: PrincipalDirectory | null = null,
  ) {}

  async register(command: RegisterLeaseCommand): Promise<RegisterLeaseOutcome> {
    const outcome = await this.store.register(command);
    const now = this.clock.now();
    if (outcome.expiredPredecessor) {
      await this.announce(
        this.ended(
          leftEvent(outcome.expiredPredecessor, LeftReason.LEFT_REASON_EXPIRED, now),
          outcome.expiredPredecessor,
        ),
      );
    }
    this.principals?.record(outcome.lease, command.principal);
    await this.announce(
      this.withSubject(registeredEvent(outcome.lease, outcome.resumed, now), outcome.lease),
    );
    return outcome;
  }

  keepAlive(gatewayId: string, refs: readonly LeaseRefCommand[]): Promise<KeepAliveOutcome[]> {
    return this.store.keepAlive(gatewayId, refs);
  }

  async revoke(peerId: string, fencingToken: number): Promise<Lease> {
    const lease = await this.store.revoke(peerId, fencingToken);
    await this.announce(
      this.ended(leftEvent(lease, LeftReason.LEFT_REASON_CLOSED, this.clock.now()), lease),
    );
    return lease;
  }

  lookup(peerId: string): Promise<Lease | null> {
    return this.store.lookup(peerId);
  }

  batchLookup(peerIds: readonly string[]): Promise<BatchLookupOutcome> {
    return this.store.batchLookup(peerIds);
  }

  /** Claims up to `limit` due leases and announces each one's LEFT/EXPIRED. */
  async expireDue(limit: number): Promise<Lease[]> {
    const now = this.clock.now();
    const expired = await this.store.reapExpired(now, limit);
    for (const lease of expired) {
      await this.announce(this.ended(leftEvent(lease, LeftReason.LEFT_REASON_EXPIRED, now), lease));
    }
    return expired;
  }

  /** The event with the lease's subject, where one was recorded. */
  private withSubject(event: PresenceEvent, lease: Lease): PresenceEvent {
    const subject = this.principals?.subjectOf(lease);
    return subject === undefined ? event : { ...event, subject };
  }

  /** A LEFT event: stamped with the subject, which is then forgotten. */
  private ended(event: PresenceEvent, lease: Lease): PresenceEvent {
    const stamped = this.withSubject(event, lease);
    this.principals?.forget(lease);
    return stamped;
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
