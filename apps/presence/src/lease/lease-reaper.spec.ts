import { createHash } from 'node:crypto';
import { LeftReason, type PresenceEvent, PresenceEventType } from '@ephemeral/protocol/presence';
import { createLogger } from '@ephemeral/logging';
import type { Clock } from './clock';
import { LeaseReaper } from './lease-reaper';
import { LeaseRegistry } from './lease-registry';
import { LeaseTtlPolicy } from './lease-ttl-policy';
import { MemoryLeaseStore } from './memory-lease-store';

const logger = createLogger({ service: 'presence-spec', instance: 'spec', level: 'silent' });
const PEER_A = '11111111-1111-4111-8111-111111111111';
const PEER_B = '22222222-2222-4222-8222-222222222222';
const HASH = createHash('sha256').update('token').digest();

describe('LeaseRegistry and LeaseReaper', () => {
  let now: number;
  let events: PresenceEvent[];
  let registry: LeaseRegistry;
  let reaper: LeaseReaper;

  beforeEach(() => {
    now = 1_700_000_000_000;
    events = [];
    const clock: Clock = { now: () => now };
    const store = new MemoryLeaseStore(clock, new LeaseTtlPolicy(15, 1, 120));
    registry = new LeaseRegistry(store, { publish: (e) => void events.push(e) }, clock, logger);
    // 250 ms as in production; the specs drive ticks by hand.
    reaper = new LeaseReaper(registry, 250, logger);
  });

  afterEach(() => reaper.stop());

  const register = (peerId: string, mode: 'new' | 'resume' = 'new', ttl = 2) =>
    registry.register({
      peerId,
      gatewayId: 'gw-1',
      requestedTtlSeconds: ttl,
      mode,
      resumeTokenSha256: HASH,
    });

  it('announces REGISTERED for NEW and RESUME, LEFT/CLOSED for revoke', async () => {
    const { lease } = await register(PEER_A);
    await registry.revoke(PEER_A, lease.fencingToken);
    const resumed = (await register(PEER_A, 'resume')).lease;
    expect(events.map((e) => [e.type, e.reason, e.resumed, e.fencingToken])).toEqual([
      [
        PresenceEventType.PRESENCE_EVENT_TYPE_REGISTERED,
        LeftReason.LEFT_REASON_UNSPECIFIED,
        false,
        lease.fencingToken,
      ],
      [
        PresenceEventType.PRESENCE_EVENT_TYPE_LEFT,
        LeftReason.LEFT_REASON_CLOSED,
        false,
        lease.fencingToken,
      ],
      [
        PresenceEventType.PRESENCE_EVENT_TYPE_REGISTERED,
        LeftReason.LEFT_REASON_UNSPECIFIED,
        true,
        resumed.fencingToken,
      ],
    ]);
  });

  it('announces LEFT/EXPIRED exactly once per expired lease, on time', async () => {
    await register(PEER_A);
    await register(PEER_B);
    events.length = 0;
    now += 1_999;
    await reaper.tick();
    expect(events).toEqual([]);
    now += 1;
    await reaper.tick();
    await reaper.tick();
    expect(events.map((e) => [e.peerId, e.type, e.reason, e.atUnixMs])).toEqual([
      [PEER_A, PresenceEventType.PRESENCE_EVENT_TYPE_LEFT, LeftReason.LEFT_REASON_EXPIRED, now],
      [PEER_B, PresenceEventType.PRESENCE_EVENT_TYPE_LEFT, LeftReason.LEFT_REASON_EXPIRED, now],
    ]);
  });

  it('announces the expiry of an unreaped lease before a NEW registration replaces it', async () => {
    await register(PEER_A);
    now += 2_000;
    events.length = 0;
    await register(PEER_A);
    await reaper.tick();
    expect(events.map((e) => [e.type, e.reason])).toEqual([
      [PresenceEventType.PRESENCE_EVENT_TYPE_LEFT, LeftReason.LEFT_REASON_EXPIRED],
      [PresenceEventType.PRESENCE_EVENT_TYPE_REGISTERED, LeftReason.LEFT_REASON_UNSPECIFIED],
    ]);
  });

  it('keeps going when the event sink fails', async () => {
    const clock: Clock = { now: () => now };
    const failing = new LeaseRegistry(
      new MemoryLeaseStore(clock, new LeaseTtlPolicy(15, 1, 120)),
      {
        publish: () => {
          throw new Error('broker down');
        },
      },
      clock,
      logger,
    );
    const outcome = await failing.register({
      peerId: PEER_A,
      gatewayId: 'gw',
      requestedTtlSeconds: 0,
      mode: 'new',
      resumeTokenSha256: HASH,
    });
    expect(await failing.lookup(PEER_A)).toEqual(outcome.lease);
  });

  it('runs on an unref-ed timer and stops cleanly', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
    try {
      await register(PEER_A);
      events.length = 0;
      reaper.start();
      now += 2_000;
      await jest.advanceTimersByTimeAsync(250);
      expect(events).toHaveLength(1);
      await reaper.stop();
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});
