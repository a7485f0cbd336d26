import { createHash } from 'node:crypto';
import { KeepAliveStatus, type Principal } from '@ephemeral/protocol/presence';
import type { Clock } from './clock';
import { type LeaseStore, MAX_PEERS_PER_SUBJECT, type RegisterLeaseCommand } from './lease-store';
import { LeaseStoreError, LeaseStoreErrorReason } from './lease-store-error';
import { LeaseTtlPolicy } from './lease-ttl-policy';

/**
 * The behaviour every LeaseStore must have (docs/decisions/0001-lease-semantics.md),
 * as one Jest suite that each implementation's spec runs against its own store:
 * memory-lease-store.spec.ts and redis-lease-store.e2e-spec.ts. Not built into
 * the app (tsconfig.app.json excludes it).
 */

export class FakeClock implements Clock {
  constructor(private current = 1_700_000_000_000) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

export interface LeaseStoreUnderTest {
  readonly store: LeaseStore;
  /** Records still held: live, revoked-but-resumable, expired-not-reaped. */
  storedCount(): Promise<number>;
}

/** Makes a fresh, empty store on `clock`; called once or more per test. */
export type LeaseStoreFactory = (
  clock: Clock,
  ttlPolicy: LeaseTtlPolicy,
) => Promise<LeaseStoreUnderTest> | LeaseStoreUnderTest;

export const PEER_A = '11111111-1111-4111-8111-111111111111';
export const PEER_B = '22222222-2222-4222-8222-222222222222';
export const PEER_C = '33333333-3333-4333-8333-333333333333';
export const principalOf = (subject: string, sharing = false): Principal => ({
  subject,
  issuer: 'https://id.example.com',
  displayName: `name of ${subject}`,
  emailDomain: 'example.com',
  sharing,
});
export const tokenHash = (token: string) => createHash('sha256').update(token).digest();

export function registerCommand(
  overrides: Partial<RegisterLeaseCommand> = {},
): RegisterLeaseCommand {
  return {
    peerId: PEER_A,
    gatewayId: 'gateway-1',
    requestedTtlSeconds: 10,
    mode: 'new',
    resumeTokenSha256: tokenHash('secret-a'),
    ...overrides,
  };
}

export async function rejection(promise: Promise<unknown>): Promise<LeaseStoreError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LeaseStoreError) return error;
    throw error;
  }
  throw new Error('expected a LeaseStoreError');
}

export function describeLeaseStoreContract(name: string, create: LeaseStoreFactory): void {
  describe(`${name} (LeaseStore contract)`, () => {
    const command = registerCommand;
    let clock: FakeClock;
    let store: LeaseStore;
    let underTest: LeaseStoreUnderTest;

    beforeEach(async () => {
      clock = new FakeClock();
      // default 15 s, bounds 1..120 s, as in production defaults
      underTest = await create(clock, new LeaseTtlPolicy(15, 1, 120));
      store = underTest.store;
    });

    it('grants a lease with a TTL, expiry and fencing token', async () => {
      const { lease, resumed, expiredPredecessor } = await store.register(command());
      expect(resumed).toBe(false);
      expect(expiredPredecessor).toBeUndefined();
      expect(lease).toEqual({
        peerId: PEER_A,
        gatewayId: 'gateway-1',
        fencingToken: expect.any(Number),
        ttlSeconds: 10,
        expiresAtUnixMs: clock.now() + 10_000,
        registeredAtUnixMs: clock.now(),
      });
      expect(Number.isSafeInteger(lease.fencingToken) && lease.fencingToken > 0).toBe(true);
      expect(await store.lookup(PEER_A)).toEqual(lease);
    });

    it('clamps the requested TTL to the bounds and uses the default for 0', async () => {
      expect(
        (await store.register(command({ requestedTtlSeconds: 10_000 }))).lease.ttlSeconds,
      ).toBe(120);
      expect(
        (await store.register(command({ peerId: PEER_B, requestedTtlSeconds: 0 }))).lease
          .ttlSeconds,
      ).toBe(15);
      const tiny = (await create(clock, new LeaseTtlPolicy(15, 5, 120))).store;
      const other = '33333333-3333-4333-8333-333333333333';
      expect(
        (await tiny.register(command({ peerId: other, requestedTtlSeconds: 1 }))).lease.ttlSeconds,
      ).toBe(5);
    });

    it('refuses NEW for an ID that is already online', async () => {
      await store.register(command());
      const error = await rejection(store.register(command({ gatewayId: 'gateway-2' })));
      expect(error.reason).toBe(LeaseStoreErrorReason.ALREADY_EXISTS);
    });

    it('grows the fencing token on every grant, across IDs', async () => {
      const first = await store.register(command());
      const second = await store.register(command({ peerId: PEER_B }));
      expect(second.lease.fencingToken).toBeGreaterThan(first.lease.fencingToken);
    });

    it('renews in batch: extends the expiry by the TTL from now', async () => {
      const a = (await store.register(command())).lease;
      const b = (await store.register(command({ peerId: PEER_B }))).lease;
      clock.advance(9_000);
      const results = await store.keepAlive('gateway-1', [
        { peerId: PEER_A, fencingToken: a.fencingToken },
        { peerId: PEER_B, fencingToken: b.fencingToken },
      ]);
      expect(results).toEqual([
        {
          peerId: PEER_A,
          status: KeepAliveStatus.KEEP_ALIVE_STATUS_RENEWED,
          expiresAtUnixMs: clock.now() + 10_000,
        },
        {
          peerId: PEER_B,
          status: KeepAliveStatus.KEEP_ALIVE_STATUS_RENEWED,
          expiresAtUnixMs: clock.now() + 10_000,
        },
      ]);
      clock.advance(9_000);
      expect(await store.lookup(PEER_A)).not.toBeNull();
      expect(await store.reapExpired(clock.now(), 100)).toEqual([]);
    });

    it('answers NOT_FOUND to a keepalive after expiry, and never revives the lease', async () => {
      const lease = (await store.register(command())).lease;
      clock.advance(10_000);
      expect(await store.lookup(PEER_A)).toBeNull();
      const [result] = await store.keepAlive('gateway-1', [
        { peerId: PEER_A, fencingToken: lease.fencingToken },
      ]);
      expect(result.status).toBe(KeepAliveStatus.KEEP_ALIVE_STATUS_NOT_FOUND);
      const resume = await rejection(store.register(command({ mode: 'resume' })));
      expect(resume.reason).toBe(LeaseStoreErrorReason.NOT_FOUND);
    });

    it('answers NOT_FOUND for an unknown peer', async () => {
      const [result] = await store.keepAlive('gateway-1', [{ peerId: PEER_B, fencingToken: 1 }]);
      expect(result.status).toBe(KeepAliveStatus.KEEP_ALIVE_STATUS_NOT_FOUND);
      expect((await rejection(store.revoke(PEER_B, 1))).reason).toBe(
        LeaseStoreErrorReason.NOT_FOUND,
      );
    });

    it('fences keepalive and revoke that carry a stale token or another gateway', async () => {
      const old = (await store.register(command())).lease;
      const current = (await store.register(command({ gatewayId: 'gateway-2', mode: 'resume' })))
        .lease;
      expect(current.fencingToken).toBeGreaterThan(old.fencingToken);

      const [stale] = await store.keepAlive('gateway-1', [
        { peerId: PEER_A, fencingToken: old.fencingToken },
      ]);
      expect(stale.status).toBe(KeepAliveStatus.KEEP_ALIVE_STATUS_FENCED);
      const [wrongGateway] = await store.keepAlive('gateway-1', [
        { peerId: PEER_A, fencingToken: current.fencingToken },
      ]);
      expect(wrongGateway.status).toBe(KeepAliveStatus.KEEP_ALIVE_STATUS_FENCED);

      expect((await rejection(store.revoke(PEER_A, old.fencingToken))).reason).toBe(
        LeaseStoreErrorReason.FENCED,
      );
      expect(await store.lookup(PEER_A)).toEqual(current);
    });

    it('revoke takes the peer offline at once; a second revoke is NOT_FOUND', async () => {
      const lease = (await store.register(command())).lease;
      expect(await store.revoke(PEER_A, lease.fencingToken)).toEqual(lease);
      expect(await store.lookup(PEER_A)).toBeNull();
      expect(await store.batchLookup([PEER_A])).toEqual({ leases: [], missing: [PEER_A] });
      expect((await rejection(store.revoke(PEER_A, lease.fencingToken))).reason).toBe(
        LeaseStoreErrorReason.NOT_FOUND,
      );
      const [renew] = await store.keepAlive('gateway-1', [
        { peerId: PEER_A, fencingToken: lease.fencingToken },
      ]);
      expect(renew.status).toBe(KeepAliveStatus.KEEP_ALIVE_STATUS_NOT_FOUND);
    });

    it('keeps a revoked ID reserved for its resume window: NEW is ALREADY_EXISTS', async () => {
      const lease = (await store.register(command())).lease;
      await store.revoke(PEER_A, lease.fencingToken);
      expect((await rejection(store.register(command()))).reason).toBe(
        LeaseStoreErrorReason.ALREADY_EXISTS,
      );
    });

    it('resumes a revoked lease with the right token: same ID, new fencing token, online again', async () => {
      const lease = (await store.register(command())).lease;
      await store.revoke(PEER_A, lease.fencingToken);
      clock.advance(5_000);
      const outcome = await store.register(command({ mode: 'resume', gatewayId: 'gateway-2' }));
      expect(outcome.resumed).toBe(true);
      expect(outcome.lease.peerId).toBe(PEER_A);
      expect(outcome.lease.gatewayId).toBe('gateway-2');
      expect(outcome.lease.fencingToken).toBeGreaterThan(lease.fencingToken);
      expect(outcome.lease.expiresAtUnixMs).toBe(clock.now() + 10_000);
      expect(await store.lookup(PEER_A)).toEqual(outcome.lease);
    });

    it('refuses RESUME with the wrong token', async () => {
      await store.register(command());
      const error = await rejection(
        store.register(command({ mode: 'resume', resumeTokenSha256: tokenHash('guess') })),
      );
      expect(error.reason).toBe(LeaseStoreErrorReason.RESUME_TOKEN_MISMATCH);
    });

    it('refuses RESUME of a revoked lease once its original expiry has passed', async () => {
      const lease = (await store.register(command())).lease;
      await store.revoke(PEER_A, lease.fencingToken);
      clock.advance(10_000);
      expect((await rejection(store.register(command({ mode: 'resume' })))).reason).toBe(
        LeaseStoreErrorReason.NOT_FOUND,
      );
    });

    it('refuses RESUME of an ID it never saw', async () => {
      expect((await rejection(store.register(command({ mode: 'resume' })))).reason).toBe(
        LeaseStoreErrorReason.NOT_FOUND,
      );
    });

    it('reaps each expired lease exactly once, in expiry order, and honours the limit', async () => {
      await store.register(command({ peerId: PEER_B, requestedTtlSeconds: 3 }));
      await store.register(command({ requestedTtlSeconds: 2 }));
      expect(await store.reapExpired(clock.now() + 1_999, 10)).toEqual([]);
      clock.advance(3_000);
      const first = await store.reapExpired(clock.now(), 1);
      expect(first.map((l) => l.peerId)).toEqual([PEER_A]);
      const second = await store.reapExpired(clock.now(), 10);
      expect(second.map((l) => l.peerId)).toEqual([PEER_B]);
      expect(await store.reapExpired(clock.now(), 10)).toEqual([]);
      expect(await underTest.storedCount()).toBe(0);
    });

    it('drops revoked leases at their original expiry without reporting them again', async () => {
      const lease = (await store.register(command())).lease;
      await store.revoke(PEER_A, lease.fencingToken);
      clock.advance(10_000);
      expect(await store.reapExpired(clock.now(), 10)).toEqual([]);
      expect(await underTest.storedCount()).toBe(0);
    });

    it('does not reap a lease under the expiry of its earlier grant after a resume', async () => {
      await store.register(command({ requestedTtlSeconds: 2 }));
      clock.advance(1_000);
      const resumed = (await store.register(command({ mode: 'resume', requestedTtlSeconds: 10 })))
        .lease;
      clock.advance(1_500);
      expect(await store.reapExpired(clock.now(), 10)).toEqual([]);
      clock.advance(9_000);
      expect(await store.reapExpired(clock.now(), 10)).toEqual([resumed]);
    });

    it('hands an expired, not yet reaped lease to a NEW registration of the same ID, once', async () => {
      const old = (await store.register(command({ requestedTtlSeconds: 1 }))).lease;
      clock.advance(1_000);
      const outcome = await store.register(command({ gatewayId: 'gateway-2' }));
      expect(outcome.expiredPredecessor).toEqual(old);
      clock.advance(60_000);
      const reaped = await store.reapExpired(clock.now(), 10);
      expect(reaped).toEqual([outcome.lease]);
    });

    it('batch lookup lists live leases and missing peers, each once', async () => {
      const a = (await store.register(command())).lease;
      expect(await store.batchLookup([PEER_A, PEER_B, PEER_A])).toEqual({
        leases: [a],
        missing: [PEER_B],
      });
    });

    it('keeps one record per lease however often it is renewed and reaped around', async () => {
      const lease = (await store.register(command())).lease;
      for (let i = 0; i < 20; i += 1) {
        clock.advance(1_000);
        const [renewed] = await store.keepAlive('gateway-1', [
          { peerId: PEER_A, fencingToken: lease.fencingToken },
        ]);
        expect(renewed.status).toBe(KeepAliveStatus.KEEP_ALIVE_STATUS_RENEWED);
        expect(await store.reapExpired(clock.now(), 10)).toEqual([]);
      }
      expect(await underTest.storedCount()).toBe(1);
    });

    it('counts held leases: live and revoked until their expiry, renewals followed', async () => {
      expect(await store.countHeld(clock.now())).toBe(0);
      const a = (await store.register(command())).lease;
      const b = (await store.register(command({ peerId: PEER_B, requestedTtlSeconds: 5 }))).lease;
      expect(await store.countHeld(clock.now())).toBe(2);
      await store.revoke(PEER_B, b.fencingToken);
      expect(await store.countHeld(clock.now())).toBe(2);
      clock.advance(6_000);
      expect(await store.countHeld(clock.now())).toBe(1);
      await store.keepAlive('gateway-1', [{ peerId: PEER_A, fencingToken: a.fencingToken }]);
      clock.advance(6_000);
      // A's renewal moved its expiry to 16 s: still held at 12 s, unreaped or not.
      expect(await store.countHeld(clock.now())).toBe(1);
      clock.advance(5_000);
      expect(await store.countHeld(clock.now())).toBe(0);
    });

    describe('by person (leases granted with a principal)', () => {
      const alice = principalOf('u-alice', true);
      const listed = async (subject: string) =>
        (await store.listBySubject(subject)).map(({ lease, sharing }) => [lease.peerId, sharing]);

      it('lists the live leases a subject holds and whether each shares; others and anonymous ones not', async () => {
        const sharing = (await store.register(command({ principal: alice }))).lease;
        await store.register(command({ peerId: PEER_B, principal: principalOf('u-alice') }));
        await store.register(command({ peerId: PEER_C, principal: principalOf('u-bob', true) }));
        await store.register(command({ peerId: '44444444-4444-4444-8444-444444444444' }));
        expect(await listed('u-alice')).toEqual([
          [PEER_A, true],
          [PEER_B, false],
        ]);
        expect((await store.listBySubject('u-alice'))[0]?.lease).toEqual(sharing);
        expect(await listed('u-bob')).toEqual([[PEER_C, true]]);
        expect(await store.listBySubject('u-nobody')).toEqual([]);
      });

      it('a revoked lease leaves the list at once and says whose it was', async () => {
        const lease = (await store.register(command({ principal: alice }))).lease;
        const revoked = await store.revoke(PEER_A, lease.fencingToken);
        expect(revoked).toEqual({ ...lease, subject: 'u-alice' });
        expect(await store.listBySubject('u-alice')).toEqual([]);
        const anonymous = (await store.register(command({ peerId: PEER_B }))).lease;
        expect((await store.revoke(PEER_B, anonymous.fencingToken)).subject).toBeUndefined();
      });

      it('an expired lease is not listed, and its reap says whose it was', async () => {
        await store.register(command({ principal: alice, requestedTtlSeconds: 2 }));
        await store.register(command({ peerId: PEER_B, requestedTtlSeconds: 2 }));
        clock.advance(2_000);
        expect(await store.listBySubject('u-alice')).toEqual([]);
        const reaped = await store.reapExpired(clock.now(), 10);
        expect(reaped.map((lease) => [lease.peerId, lease.subject])).toEqual(
          expect.arrayContaining([
            [PEER_A, 'u-alice'],
            [PEER_B, undefined],
          ]),
        );
        expect(reaped).toHaveLength(2);
        expect(await store.listBySubject('u-alice')).toEqual([]);
      });

      it('an ID granted again belongs to whoever the new grant names, listed once', async () => {
        const first = (await store.register(command({ principal: alice }))).lease;
        await store.revoke(PEER_A, first.fencingToken);
        clock.advance(1);
        const resumed = (await store.register(command({ mode: 'resume', principal: alice }))).lease;
        expect(await store.listBySubject('u-alice')).toEqual([{ lease: resumed, sharing: true }]);
        // Resumed on another socket without a sign-in: no longer Alice's.
        clock.advance(1);
        await store.register(command({ mode: 'resume', gatewayId: 'gateway-2' }));
        expect(await store.listBySubject('u-alice')).toEqual([]);
      });

      it('hands a claimed expired predecessor over with its subject', async () => {
        await store.register(command({ principal: alice, requestedTtlSeconds: 1 }));
        clock.advance(1_000);
        const outcome = await store.register(command({ principal: principalOf('u-bob') }));
        expect(outcome.expiredPredecessor?.subject).toBe('u-alice');
        expect(await store.listBySubject('u-alice')).toEqual([]);
        expect(await listed('u-bob')).toEqual([[PEER_A, false]]);
      });

      it(`keeps at most ${MAX_PEERS_PER_SUBJECT} grants per subject, the newest`, async () => {
        const ids: string[] = [];
        for (let i = 0; i <= MAX_PEERS_PER_SUBJECT; i++) {
          const peerId = `${i.toString(16).padStart(8, '0')}-5555-4555-8555-555555555555`;
          ids.push(peerId);
          clock.advance(1);
          await store.register(command({ peerId, principal: principalOf('u-many') }));
        }
        const held = await store.listBySubject('u-many');
        expect(held).toHaveLength(MAX_PEERS_PER_SUBJECT);
        expect(held.map(({ lease }) => lease.peerId).sort()).toEqual(ids.slice(1).sort());
      }, 60_000);
    });
  });
}
