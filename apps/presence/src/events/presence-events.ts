import {
  LeftReason,
  type Lease,
  type PresenceEvent,
  PresenceEventType,
} from '@ephemeral/protocol/presence';

/** The event announcing a grant (NEW or RESUME). */
export function registeredEvent(lease: Lease, resumed: boolean, atUnixMs: number): PresenceEvent {
  return {
    type: PresenceEventType.PRESENCE_EVENT_TYPE_REGISTERED,
    peerId: lease.peerId,
    gatewayId: lease.gatewayId,
    fencingToken: lease.fencingToken,
    reason: LeftReason.LEFT_REASON_UNSPECIFIED,
    resumed,
    atUnixMs,
  };
}

/** The event announcing that a lease ended: revoked (CLOSED) or EXPIRED. */
export function leftEvent(
  lease: Lease,
  reason: LeftReason.LEFT_REASON_CLOSED | LeftReason.LEFT_REASON_EXPIRED,
  atUnixMs: number,
): PresenceEvent {
  return {
    type: PresenceEventType.PRESENCE_EVENT_TYPE_LEFT,
    peerId: lease.peerId,
    gatewayId: lease.gatewayId,
    fencingToken: lease.fencingToken,
    reason,
    resumed: false,
    atUnixMs,
  };
}
