import type { PeerCertificate } from 'node:tls';

import { LeftReason, type Lease, PresenceEventType } from '@ephemeral/protocol/presence';

import type { CallerSource } from './caller';
import { LeaseAccessPolicy, PermissionDeniedError } from './lease-access-policy';

const lease: Lease = {
  peerId: '6f1c2b0e-8d8f-4d55-9d43-3f5f8f0a1b2c',
  gatewayId: 'gateway-a',
  fencingToken: 41,
  ttlSeconds: 15,
  expiresAtUnixMs: 2_000,
  registeredAtUnixMs: 1_000,
};

function callFrom(subject: Record<string, unknown> | null, peer = '10.0.0.7:53122'): CallerSource {
  return {
    getPeer: () => peer,
    getAuthContext: () =>
      subject === null ? {} : { sslPeerCertificate: { subject } as unknown as PeerCertificate },
  };
}

describe('LeaseAccessPolicy with mTLS', () => {
  const policy = new LeaseAccessPolicy(true);
  const a = policy.callerOf(callFrom({ CN: 'gateway-a' }));
  const b = policy.callerOf(callFrom({ CN: 'gateway-b' }));

  it('names the caller by its certificate CN', () => {
    expect(a).toEqual({ kind: 'gateway', gatewayId: 'gateway-a' });
  });

  it.each([
    ['no certificate', null],
    ['no CN', { O: 'Ephemeral' }],
    ['two CNs', { CN: ['gateway-a', 'gateway-b'] }],
    ['a CN that is no gateway ID', { CN: 'gateway a/../' }],
  ])('refuses a caller with %s', (_case, subject) => {
    expect(() => policy.callerOf(callFrom(subject))).toThrow(PermissionDeniedError);
    expect(() => policy.callerOf(callFrom(subject))).toThrow(/names no gateway/);
  });

  it('lets a gateway act only as itself', () => {
    expect(() => policy.requireActingAs(a, 'gateway-a')).not.toThrow();
    expect(() => policy.requireActingAs(b, 'gateway-a')).toThrow(
      'gateway_id: the client certificate is for gateway-b, not gateway-a',
    );
  });

  it('lets only the holder revoke, and logs who tried', () => {
    expect(() => policy.requireHolder(a, lease)).not.toThrow();
    let refusal: unknown;
    try {
      policy.requireHolder(b, lease);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(PermissionDeniedError);
    expect((refusal as PermissionDeniedError).logFields).toEqual({
      caller: 'gateway:gateway-b',
      holder: 'gateway-a',
      peerId: lease.peerId,
    });
  });

  it('shows the fencing token of a lease to its holder only', () => {
    expect(policy.visibleLease(a, lease)).toBe(lease);
    expect(policy.visibleLease(b, lease)).toEqual({ ...lease, fencingToken: 0 });
    expect(lease.fencingToken).toBe(41);
  });

  it('shows the fencing token of an event to its holder only, without touching the shared event', () => {
    const event = {
      type: PresenceEventType.PRESENCE_EVENT_TYPE_LEFT,
      peerId: lease.peerId,
      gatewayId: 'gateway-a',
      fencingToken: 41,
      reason: LeftReason.LEFT_REASON_CLOSED,
      resumed: false,
      atUnixMs: 3_000,
    };
    expect(policy.visibleEvent(a, event).fencingToken).toBe(41);
    expect(policy.visibleEvent(b, event)).toEqual({ ...event, fencingToken: 0 });
    expect(event.fencingToken).toBe(41);
  });
});

describe('LeaseAccessPolicy without mTLS', () => {
  const policy = new LeaseAccessPolicy(false);
  const caller = policy.callerOf(callFrom(null, '::1:40000'));

  it('knows the caller by its address only, without the port', () => {
    expect(caller).toEqual({ kind: 'address', address: '::1' });
  });

  it('allows everything and hides nothing, as before mTLS', () => {
    expect(() => policy.requireActingAs(caller, 'gateway-a')).not.toThrow();
    expect(() => policy.requireHolder(caller, lease)).not.toThrow();
    expect(policy.visibleLease(caller, lease).fencingToken).toBe(41);
  });
});
