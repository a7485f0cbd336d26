import { type DistributedStack, signals, sleep } from '@ephemeral/testing';

import { LEASE_TTL_SECONDS, startCrashStack } from './crash-stack';

// Short leases (crash-stack.ts): if keep-alives stopped reaching presence,
// the leases would expire (and peers would be told) within this window.
const OBSERVE_MS = 3 * LEASE_TTL_SECONDS * 1000;

describe('kill -9 of one presence replica (distributed mode)', () => {
  let stack: DistributedStack;

  beforeAll(async () => {
    stack = await startCrashStack();
  });

  afterAll(async () => {
    await stack?.disconnectPeers();
    await stack?.stop();
  });

  it('keeps lookups, keep-alives and signals going on the other replica; no lease is lost', async () => {
    const peers = await Promise.all([
      stack.connect(0),
      stack.connect(0),
      stack.connect(1),
      stack.connect(1),
    ]);
    const [a, , b] = peers;
    a.signal(b.peerId, signals.offer());
    expect((await b.next('signal')).from).toBe(a.peerId);

    await stack.presences[0].kill9();

    // Signals keep flowing both ways (each one is a presence lookup, unless
    // a recent one is cached) for three lease TTLs.
    const rounds = OBSERVE_MS / 200;
    for (let n = 0; n < rounds; n++) {
      a.signal(b.peerId, signals.candidate(n));
      b.signal(a.peerId, signals.candidate(n));
      await sleep(200); // pacing: the test is that they keep flowing for OBSERVE_MS
    }
    for (let n = 0; n < rounds; n++) {
      expect((await b.next('signal')).from).toBe(a.peerId);
      expect((await a.next('signal')).from).toBe(b.peerId);
    }

    // Every lease survived (keep-alives reached the live replica) and nobody
    // was told anyone left or refused anything.
    for (const peer of peers) {
      expect(await stack.isOnline(peer.peerId)).toBe(true);
      expect(peer.pending('peerLeft')).toBe(0);
      expect(peer.pending('error')).toBe(0);
      expect(peer.isClosed).toBe(false);
    }

    // New peers still get leases (Register lands on the live replica) and
    // can be reached at once.
    const late = await stack.connect(1);
    a.signal(late.peerId, signals.offer());
    expect((await late.next('signal')).from).toBe(a.peerId);
    expect(await stack.readiness(0)).toBe(200);
    expect(await stack.readiness(1)).toBe(200);
  });
});
