import { KeepAliveStatus } from '@ephemeral/protocol/presence';
import { describeLeaseStoreContract, FakeClock, registerCommand } from './lease-store-contract';
import { LeaseTtlPolicy } from './lease-ttl-policy';
import { MemoryLeaseStore } from './memory-lease-store';

describeLeaseStoreContract('MemoryLeaseStore', (clock, ttlPolicy) => {
  const store = new MemoryLeaseStore(clock, ttlPolicy);
  return { store, storedCount: async () => store.size };
});

describe('MemoryLeaseStore', () => {
  let clock: FakeClock;
  let store: MemoryLeaseStore;

  beforeEach(() => {
    clock = new FakeClock();
    store = new MemoryLeaseStore(clock, new LeaseTtlPolicy(15, 1, 120));
  });

  it('counts fencing tokens from 1', async () => {
    expect((await store.register(registerCommand())).lease.fencingToken).toBe(1);
  });

  it('keeps the expiry queue proportional to grants, not renewals', async () => {
    const lease = (await store.register(registerCommand())).lease;
    for (let i = 0; i < 100; i += 1) {
      clock.advance(1_000);
      const [renewed] = await store.keepAlive('gateway-1', [
        { peerId: lease.peerId, fencingToken: lease.fencingToken },
      ]);
      expect(renewed.status).toBe(KeepAliveStatus.KEEP_ALIVE_STATUS_RENEWED);
      await store.reapExpired(clock.now(), 10);
    }
    // One queued entry for one lease, however often it was renewed.
    expect(store.queuedExpiryCount).toBe(1);
  });
});
