import { LeftReason, type Lease, type PresenceEvent } from '@ephemeral/protocol/presence';
import { PresenceEventHub, SubscriptionEndReason } from './presence-event-hub';
import { leftEvent, registeredEvent } from './presence-events';

const PEER_A = '11111111-1111-4111-8111-111111111111';
const PEER_B = '22222222-2222-4222-8222-222222222222';

function lease(peerId: string): Lease {
  return {
    peerId,
    gatewayId: 'gw',
    fencingToken: 1,
    ttlSeconds: 5,
    expiresAtUnixMs: 5_000,
    registeredAtUnixMs: 0,
  };
}

function collector() {
  const received: PresenceEvent[] = [];
  const ends: SubscriptionEndReason[] = [];
  return { received, ends };
}

describe('PresenceEventHub', () => {
  it('fans every event out to every subscriber, in order', () => {
    const hub = new PresenceEventHub(8);
    const first = collector();
    const second = collector();
    const a = hub.subscribe({ onReadable: () => drain(), onEnd: (r) => first.ends.push(r) });
    const b = hub.subscribe({ onReadable: () => undefined, onEnd: (r) => second.ends.push(r) });
    function drain() {
      for (let e = a.take(); e; e = a.take()) first.received.push(e);
    }
    const events = [
      registeredEvent(lease(PEER_A), false, 1),
      leftEvent(lease(PEER_A), LeftReason.LEFT_REASON_CLOSED, 2),
    ];
    events.forEach((e) => hub.publish(e));
    expect(first.received).toEqual(events);
    expect(b.pending).toBe(2);
    expect([b.take(), b.take(), b.take()]).toEqual([...events, undefined]);
  });

  it('filters by peer ID when asked', () => {
    const hub = new PresenceEventHub(8);
    const onlyB = hub.subscribe({
      peerIds: [PEER_B],
      onReadable: () => undefined,
      onEnd: () => undefined,
    });
    hub.publish(registeredEvent(lease(PEER_A), false, 1));
    hub.publish(registeredEvent(lease(PEER_B), false, 2));
    expect(onlyB.pending).toBe(1);
    expect(onlyB.take()?.peerId).toBe(PEER_B);
  });

  it('ends a subscriber that falls more than the queue limit behind, and keeps serving the others', () => {
    const hub = new PresenceEventHub(3);
    const slow = collector();
    const fast = collector();
    const slowSub = hub.subscribe({ onReadable: () => undefined, onEnd: (r) => slow.ends.push(r) });
    const fastSub = hub.subscribe({
      onReadable: () => {
        for (let e = fastSub.take(); e; e = fastSub.take()) fast.received.push(e);
      },
      onEnd: (r) => fast.ends.push(r),
    });
    for (let i = 0; i < 5; i += 1) hub.publish(registeredEvent(lease(PEER_A), false, i));
    expect(slow.ends).toEqual([SubscriptionEndReason.OVERFLOW]);
    expect(slowSub.ended).toBe(SubscriptionEndReason.OVERFLOW);
    expect(slowSub.pending).toBe(0);
    expect(fast.received).toHaveLength(5);
    expect(fast.ends).toEqual([]);
    expect(hub.subscriberCount).toBe(1);
  });

  it('unsubscribe detaches without calling onEnd', () => {
    const hub = new PresenceEventHub(3);
    const { ends } = collector();
    const sub = hub.subscribe({ onReadable: () => undefined, onEnd: (r) => ends.push(r) });
    sub.unsubscribe();
    hub.publish(registeredEvent(lease(PEER_A), false, 1));
    expect(sub.pending).toBe(0);
    expect(ends).toEqual([]);
    expect(hub.subscriberCount).toBe(0);
  });

  it('endAll ends every subscriber once with SHUTDOWN', () => {
    const hub = new PresenceEventHub(3);
    const { ends } = collector();
    hub.subscribe({ onReadable: () => undefined, onEnd: (r) => ends.push(r) });
    hub.subscribe({ onReadable: () => undefined, onEnd: (r) => ends.push(r) });
    hub.endAll();
    hub.endAll();
    expect(ends).toEqual([SubscriptionEndReason.SHUTDOWN, SubscriptionEndReason.SHUTDOWN]);
    expect(hub.subscriberCount).toBe(0);
  });

  it('isolates a subscriber whose callback throws', () => {
    const hub = new PresenceEventHub(3);
    const { ends } = collector();
    hub.subscribe({
      onReadable: () => {
        throw new Error('boom');
      },
      onEnd: (r) => ends.push(r),
    });
    const healthy = hub.subscribe({ onReadable: () => undefined, onEnd: () => undefined });
    hub.publish(registeredEvent(lease(PEER_A), false, 1));
    expect(ends).toEqual([SubscriptionEndReason.FAILED]);
    expect(healthy.pending).toBe(1);
  });

  it('refuses a queue limit below one', () => {
    expect(() => new PresenceEventHub(0)).toThrow(RangeError);
  });
});
