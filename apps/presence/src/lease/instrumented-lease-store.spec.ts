import { MetricsRegistry } from '@ephemeral/metrics';
import { PresenceMetrics } from '../metrics/presence-metrics';
import { InstrumentedLeaseStore } from './instrumented-lease-store';
import type { LeaseStore } from './lease-store';
import { FakeClock, PEER_A, PEER_B, registerCommand, tokenHash } from './lease-store-contract';
import { LeaseStoreUnavailableError } from './lease-store-error';
import { LeaseTtlPolicy } from './lease-ttl-policy';
import { MemoryLeaseStore } from './memory-lease-store';

describe('InstrumentedLeaseStore', () => {
  let clock: FakeClock;
  let metrics: PresenceMetrics;
  let store: InstrumentedLeaseStore;

  beforeEach(() => {
    clock = new FakeClock();
    metrics = new PresenceMetrics(new MetricsRegistry({ nodeDefaults: false }));
    store = new InstrumentedLeaseStore(
      new MemoryLeaseStore(clock, new LeaseTtlPolicy(15, 1, 120)),
      metrics,
    );
  });

  const count = async (
    metric: { get(): Promise<{ values: Array<{ labels: object; value: number }> }> },
    labels: Record<string, string> = {},
  ) =>
    (await metric.get()).values
      .filter((v) =>
        Object.entries(labels).every(
          ([key, value]) => (v.labels as Record<string, unknown>)[key] === value,
        ),
      )
      .reduce((sum, v) => sum + v.value, 0);

  it('counts grants by mode, revokes, and keepalive outcomes by status', async () => {
    const a = (await store.register(registerCommand())).lease;
    await store.revoke(PEER_A, a.fencingToken);
    await store.register(registerCommand({ mode: 'resume' }));
    const b = (await store.register(registerCommand({ peerId: PEER_B }))).lease;
    await store.keepAlive('gateway-1', [
      { peerId: PEER_B, fencingToken: b.fencingToken },
      { peerId: PEER_A, fencingToken: a.fencingToken },
      { peerId: PEER_B, fencingToken: b.fencingToken },
    ]);
    expect(await count(metrics.leasesGranted, { mode: 'new' })).toBe(2);
    expect(await count(metrics.leasesGranted, { mode: 'resume' })).toBe(1);
    expect(await count(metrics.leasesRevoked)).toBe(1);
    expect(await count(metrics.keepAliveResults, { status: 'renewed' })).toBe(2);
    expect(await count(metrics.keepAliveResults, { status: 'fenced' })).toBe(1);
    expect(await count(metrics.keepAliveResults, { status: 'not_found' })).toBe(0);
  });

  it('counts expiries: those reaped and those claimed by a NEW registration', async () => {
    await store.register(registerCommand({ requestedTtlSeconds: 1 }));
    await store.register(registerCommand({ peerId: PEER_B, requestedTtlSeconds: 1 }));
    clock.advance(2_000);
    await store.register(registerCommand({ resumeTokenSha256: tokenHash('other') }));
    expect(await store.reapExpired(clock.now(), 10)).toHaveLength(1);
    expect(await count(metrics.leasesExpired)).toBe(2);
  });

  it('counts failed calls by operation and reason, and passes the error on', async () => {
    const lease = (await store.register(registerCommand())).lease;
    await expect(store.register(registerCommand())).rejects.toThrow();
    await expect(store.revoke(PEER_A, lease.fencingToken + 1)).rejects.toThrow();
    await expect(
      store.register(registerCommand({ peerId: PEER_B, mode: 'resume' })),
    ).rejects.toThrow();
    expect(
      await count(metrics.leaseStoreErrors, { operation: 'register', reason: 'already_exists' }),
    ).toBe(1);
    expect(await count(metrics.leaseStoreErrors, { operation: 'revoke', reason: 'fenced' })).toBe(
      1,
    );
    expect(
      await count(metrics.leaseStoreErrors, { operation: 'register', reason: 'not_found' }),
    ).toBe(1);
    expect(await count(metrics.leasesGranted)).toBe(1);
  });

  it('labels an unreachable store "unavailable" and anything else "internal"', async () => {
    const broken = {
      lookup: async () => {
        throw new LeaseStoreUnavailableError('redis: connection closed');
      },
      countHeld: async () => {
        throw new TypeError('bug');
      },
    } as unknown as LeaseStore;
    const failing = new InstrumentedLeaseStore(broken, metrics);
    await expect(failing.lookup(PEER_A)).rejects.toBeInstanceOf(LeaseStoreUnavailableError);
    await expect(failing.countHeld(0)).rejects.toBeInstanceOf(TypeError);
    expect(
      await count(metrics.leaseStoreErrors, { operation: 'lookup', reason: 'unavailable' }),
    ).toBe(1);
    expect(
      await count(metrics.leaseStoreErrors, { operation: 'count_held', reason: 'internal' }),
    ).toBe(1);
  });
});
