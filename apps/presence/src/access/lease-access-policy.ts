import type { Lease, PresenceEvent } from '@ephemeral/protocol/presence';
import { subjectCommonName } from '@ephemeral/server-runtime';

import { type Caller, callerKey, type CallerSource, peerAddress } from './caller';

// The gateway IDs presence accepts in requests (presence-request-validation).
const GATEWAY_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller may not do this; answered PERMISSION_DENIED with the message. */
export class PermissionDeniedError extends Error {
  override readonly name = 'PermissionDeniedError';

  constructor(
    message: string,
    /** Fields for the refusal's log line. */
    readonly logFields: Record<string, string>,
  ) {
    super(message);
  }
}

/**
 * Who may do what with a lease (docs/security.md, "Presence mTLS";
 * ADR 0011). With mTLS (`certificateRequired`), every caller is a gateway
 * whose ID is its client certificate's subject CN, and:
 *
 * - Register and KeepAlive act for the gateway_id they name: it must be the
 *   caller's own;
 * - Revoke ends a lease: only the gateway holding it (the lease's gateway_id);
 * - Lookup, BatchLookup and Watch show every lease, but its fencing token
 *   only to its holder (0 to anyone else): the token is what a Revoke or a
 *   KeepAlive must carry.
 *
 * Without mTLS nobody's identity is known: every call is allowed and every
 * answer is whole, as before (embedded mode, on loopback).
 */
export class LeaseAccessPolicy {
  constructor(readonly certificateRequired: boolean) {}

  /** Who `call` comes from; PermissionDeniedError when its certificate names no gateway. */
  callerOf(call: CallerSource): Caller {
    if (!this.certificateRequired) return { kind: 'address', address: peerAddress(call.getPeer()) };
    // The handshake already checked the chain (rejectUnauthorized): only a
    // certificate from PRESENCE_TLS_CA_FILE gets this far.
    const gatewayId = subjectCommonName(call.getAuthContext().sslPeerCertificate?.subject);
    if (gatewayId === null || !GATEWAY_ID.test(gatewayId)) {
      throw new PermissionDeniedError(
        'the client certificate names no gateway: its subject needs exactly one CN, the gateway ID',
        { peer: call.getPeer() },
      );
    }
    return { kind: 'gateway', gatewayId };
  }

  /** Register and KeepAlive: the gateway_id a request names must be the caller's. */
  requireActingAs(caller: Caller, gatewayId: string): void {
    if (caller.kind === 'gateway' && caller.gatewayId !== gatewayId) {
      throw new PermissionDeniedError(
        `gateway_id: the client certificate is for ${caller.gatewayId}, not ${gatewayId}`,
        { caller: callerKey(caller), gatewayId },
      );
    }
  }

  /** Revoke: only the gateway holding `lease` may end it. */
  requireHolder(caller: Caller, lease: Lease): void {
    if (!this.holds(caller, lease)) {
      throw new PermissionDeniedError(
        'the lease is held by another gateway: only its holder may revoke it',
        { caller: callerKey(caller), holder: lease.gatewayId, peerId: lease.peerId },
      );
    }
  }

  /** `lease` as `caller` may see it: without the fencing token unless it holds it. */
  visibleLease(caller: Caller, lease: Lease): Lease {
    return this.holds(caller, lease) ? lease : { ...lease, fencingToken: 0 };
  }

  /** `event` as `caller` may see it (a copy: the hub hands one event to every watcher). */
  visibleEvent(caller: Caller, event: PresenceEvent): PresenceEvent {
    return this.holds(caller, event) ? event : { ...event, fencingToken: 0 };
  }

  private holds(caller: Caller, lease: { readonly gatewayId: string }): boolean {
    return caller.kind === 'address' || caller.gatewayId === lease.gatewayId;
  }
}
