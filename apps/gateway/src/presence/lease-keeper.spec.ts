import {
  KeepAliveStatus,
  type KeepAliveRequest,
  type KeepAliveResponse,
} from '@ephemeral/protocol/presence';
import { createLogger } from '@ephemeral/logging';

import { GatewayMetrics } from '../metrics/gateway-metrics';

import { FakePresenceClient } from './fake-presence-client';
import { LeaseKeeper } from './lease-keeper';

const logger = createLogger({ service: 'gateway-spec', instance: 'spec', level: 'silent' });

function keeperWith(
  presence: FakePresenceClient,
  batchSize = 2,
  requestedTtlSeconds = 15,
  metrics = GatewayMetrics.unscraped(),
): LeaseKeeper {
  return new LeaseKeeper(
    presence,
    logger,
    { gatewayId: 'gw-1', batchSize, requestedTtlSeconds },
    metrics,
  );
}

describe('LeaseKeeper', () => {
  it('renews every lease in batches of batchSize, with its fencing token', async () => {
    const presence = new FakePresenceClient();
    const keeper = keeperWith(presence, 2);
    for (let n = 1; n <= 5; n++) keeper.track(`p${n}`, n * 10, 15);
    await keeper.renewAll();
    expect(presence.keepAlives.map((request) => request.leases.length)).toEqual([2, 2, 1]);
    expect(presence.keepAlives[0]).toEqual({
      gatewayId: 'gw-1',
      leases: [
        { peerId: 'p1', fencingToken: 10 },
        { peerId: 'p2', fencingToken: 20 },
      ],
    });
  });

  it('reports leases presence answers NOT_FOUND or FENCED, and stops renewing them', async () => {
    const presence = new FakePresenceClient();
    const keeper = keeperWith(presence, 10);
    const lost: Array<[string, number, string]> = [];
    keeper.start((peerId, token, reason) => lost.push([peerId, token, reason]));
    keeper.track('ok', 1, 15);
    keeper.track('gone', 2, 15);
    keeper.track('stolen', 3, 15);
    presence.keepAliveStatus.set('gone', KeepAliveStatus.KEEP_ALIVE_STATUS_NOT_FOUND);
    presence.keepAliveStatus.set('stolen', KeepAliveStatus.KEEP_ALIVE_STATUS_FENCED);
    const metrics = GatewayMetrics.unscraped();
    const counted = keeperWith(presence, 10, 15, metrics);
    counted.track('ok', 1, 15);
    counted.track('gone', 2, 15);
    counted.track('stolen', 3, 15);
    await counted.renewAll();
    const text = await metrics.registry.metrics();
    for (const status of ['renewed', 'not_found', 'fenced']) {
      expect(text).toContain(
        `ephemeral_gateway_lease_keepalive_results_total{status="${status}"} 1`,
      );
    }
    expect(text).toContain('ephemeral_gateway_leases_held 1');
    await keeper.renewAll();
    await keeper.stop();
    expect(lost).toEqual([
      ['gone', 2, 'not-found'],
      ['stolen', 3, 'fenced'],
    ]);
    expect(keeper.size).toBe(1);
  });

  it('does not report a lease that was re-registered with a newer token during the call', async () => {
    const presence = new FakePresenceClient();
    const keeper = keeperWith(presence);
    const lost: string[] = [];
    keeper.start((peerId) => lost.push(peerId));
    keeper.track('p', 1, 15);
    presence.keepAliveStatus.set('p', KeepAliveStatus.KEEP_ALIVE_STATUS_FENCED);
    const round = keeper.renewAll();
    keeper.track('p', 2, 15); // resumed here meanwhile
    await round;
    await keeper.stop();
    expect(lost).toEqual([]);
  });

  it('survives presence being down (the next round retries)', async () => {
    const presence = new FakePresenceClient();
    presence.down = true;
    const metrics = GatewayMetrics.unscraped();
    const keeper = keeperWith(presence, 2, 15, metrics);
    keeper.track('p', 1, 15);
    await expect(keeper.renewAll()).resolves.toBeUndefined();
    expect(keeper.size).toBe(1);
    expect(await metrics.registry.metrics()).toContain(
      'ephemeral_gateway_lease_keepalive_results_total{status="failed"} 1',
    );
  });

  it('renews every third of the shortest TTL granted, and forgets only the matching token', () => {
    const keeper = keeperWith(new FakePresenceClient(), 10, 15);
    expect(keeper.intervalMs).toBe(5_000);
    keeper.track('p', 1, 3);
    expect(keeper.intervalMs).toBe(1_000);
    keeper.forget('p', 99);
    expect(keeper.size).toBe(1);
    keeper.forget('p', 1);
    expect(keeper.size).toBe(0);
  });

  it('runs rounds on its timer until stopped', async () => {
    jest.useFakeTimers();
    try {
      const presence = new FakePresenceClient();
      const keeper = keeperWith(presence, 10, 3);
      keeper.track('p', 1, 3);
      keeper.start(() => undefined);
      await jest.advanceTimersByTimeAsync(3_100);
      expect(presence.keepAlives.length).toBe(3);
      await keeper.stop();
      await jest.advanceTimersByTimeAsync(5_000);
      expect(presence.keepAlives.length).toBe(3);
    } finally {
      jest.useRealTimers();
    }
  });

  it("sends a round's batches in parallel, at most 8 KeepAlive calls at a time", async () => {
    // A presence that answers only when told to: a slow one, under load.
    class HeldPresence extends FakePresenceClient {
      inFlight = 0;
      maxInFlight = 0;
      readonly held: Array<() => void> = [];
      override async keepAlive(request: KeepAliveRequest): Promise<KeepAliveResponse> {
        this.inFlight += 1;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        await new Promise<void>((release) => this.held.push(release));
        this.inFlight -= 1;
        return super.keepAlive(request);
      }
    }
    const presence = new HeldPresence();
    const keeper = keeperWith(presence, 10);
    for (let n = 0; n < 200; n++) keeper.track(`p${n}`, n + 1, 15);
    const round = keeper.renewAll();
    // 20 batches; release whatever is held until the round is done (bounded).
    let settled = false;
    void round.then(() => (settled = true));
    for (let step = 0; step < 100 && !settled; step++) {
      await new Promise((resolveLater) => setImmediate(resolveLater));
      presence.held.splice(0).forEach((release) => release());
    }
    await round;
    expect(presence.maxInFlight).toBe(8);
    expect(presence.keepAlives).toHaveLength(20);
    expect(new Set(presence.keepAlives.flatMap((r) => r.leases.map((l) => l.peerId))).size).toBe(
      200,
    );
  });

  it('starts rounds a third of the TTL apart even when a round is slow', async () => {
    jest.useFakeTimers();
    try {
      // Each KeepAlive takes 800 ms: with rounds counted from their end
      // they would start at 1.0, 2.8, 4.6 s; from their start: 1, 2, 3 s.
      class SlowPresence extends FakePresenceClient {
        override async keepAlive(request: KeepAliveRequest): Promise<KeepAliveResponse> {
          await new Promise((resolveLater) => setTimeout(resolveLater, 800));
          return super.keepAlive(request);
        }
      }
      const presence = new SlowPresence();
      const keeper = keeperWith(presence, 10, 3);
      keeper.track('p', 1, 3);
      keeper.start(() => undefined);
      await jest.advanceTimersByTimeAsync(3_900);
      expect(presence.keepAlives.length).toBe(3);
      await keeper.stop();
    } finally {
      jest.useRealTimers();
    }
  });
  describe('renewalsBehind (what admission control reads, ADR 0035)', () => {
    it('is set by a round that failed a batch, and cleared by the next good round', async () => {
      const presence = new FakePresenceClient();
      const keeper = keeperWith(presence, 2);
      keeper.track('p', 1, 15);
      expect(keeper.renewalsBehind).toBe(false);
      presence.down = true;
      await keeper.renewAll();
      expect(keeper.renewalsBehind).toBe(true);
      presence.down = false;
      await keeper.renewAll();
      expect(keeper.renewalsBehind).toBe(false);
    });

    it('is set while a round runs longer than the interval, and after it', async () => {
      jest.useFakeTimers();
      try {
        // Rounds every 1 s (TTL 3 s); a KeepAlive that takes 1.5 s.
        let callMs = 1_500;
        class SlowPresence extends FakePresenceClient {
          override async keepAlive(request: KeepAliveRequest): Promise<KeepAliveResponse> {
            await new Promise((resolveLater) => setTimeout(resolveLater, callMs));
            return super.keepAlive(request);
          }
        }
        const keeper = keeperWith(new SlowPresence(), 10, 3);
        keeper.track('p', 1, 3);
        keeper.start(() => undefined);
        await jest.advanceTimersByTimeAsync(1_500); // round 1 started at 1 s
        expect(keeper.renewalsBehind).toBe(false);
        await jest.advanceTimersByTimeAsync(600); // 1.1 s into round 1
        expect(keeper.renewalsBehind).toBe(true);
        callMs = 100;
        await jest.advanceTimersByTimeAsync(450); // round 1 ended late at 2.5 s
        expect(keeper.renewalsBehind).toBe(true);
        await jest.advanceTimersByTimeAsync(200); // round 2 (at once) ended on time
        expect(keeper.renewalsBehind).toBe(false);
        await keeper.stop();
      } finally {
        jest.useRealTimers();
      }
    });
  });
});
