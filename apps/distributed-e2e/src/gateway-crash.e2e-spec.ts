import { LeaveReason } from '@ephemeral/protocol';

import {
  candidateIndex,
  type DistributedStack,
  eventually,
  signals,
  sleep,
} from '@ephemeral/testing';

import { LEASE_TTL_SECONDS, startCrashStack } from './crash-stack';

describe('kill -9 of a gateway (distributed mode)', () => {
  let stack: DistributedStack;

  beforeAll(async () => {
    stack = await startCrashStack();
  });

  afterAll(async () => {
    await stack?.disconnectPeers();
    await stack?.stop();
  });

  it('tells B (gateway 2) that A left within TTL + 1 s, while peers on gateway 2 keep signaling without loss', async () => {
    const a = await stack.connect(0);
    const b = await stack.connect(1);
    const c = await stack.connect(1);
    const d = await stack.connect(1);

    // A and B become counterparts (so B is told when A leaves).
    a.signal(b.peerId, signals.offer());
    expect((await b.next('signal')).from).toBe(a.peerId);
    b.signal(a.peerId, signals.answer());
    expect((await a.next('signal')).from).toBe(b.peerId);

    // C and D trickle candidates to each other the whole time, 8/s each way:
    // under the per-sender→target limit (10/s, burst 50), as a browser's
    // trickle is; a faster pace would be refused RATE_LIMITED by design.
    let sent = 0;
    let trickling = true;
    const trickle = (async () => {
      while (trickling) {
        c.signal(d.peerId, signals.candidate(sent));
        d.signal(c.peerId, signals.candidate(sent));
        sent += 1;
        await sleep(125); // the trickle's pace
      }
    })();

    // Kill gateway 1 only once the trickle flows through gateway 2.
    await eventually(() => d.pending('signal') >= 10 && c.pending('signal') >= 10, {
      description: 'C and D trickling candidates to each other',
    });
    const killedAt = Date.now();
    const sentBeforeKill = sent;
    await stack.gateways[0].kill9();
    const left = await b.next('peerLeft', (LEASE_TTL_SECONDS + 3) * 1000);
    const noticeMs = Date.now() - killedAt;
    expect(left.peerId).toBe(a.peerId);
    expect(left.reason).toBe(LeaveReason.LEAVE_REASON_EXPIRED);
    expect(noticeMs).toBeLessThanOrEqual((LEASE_TTL_SECONDS + 1) * 1000);
    expect(await stack.isOnline(a.peerId)).toBe(false);

    // Deliberately a sleep: keep trickling a while after the notice, to see
    // that nothing is lost after the crash either.
    await sleep(500);
    trickling = false;
    await trickle;

    // Every candidate arrived, in order, from the right peer, and nothing was refused.
    for (const [receiver, sender] of [
      [d, c],
      [c, d],
    ] as const) {
      const seen: number[] = [];
      for (let n = 0; n < sent; n++) {
        const frame = await receiver.next('signal');
        expect(frame.from).toBe(sender.peerId);
        seen.push(candidateIndex(frame));
      }
      expect(seen).toEqual(Array.from({ length: sent }, (_, n) => n));
      expect(receiver.pending('error')).toBe(0);
      expect(receiver.isClosed).toBe(false);
    }
    // The trickle ran through the whole crash window (TTL + notice), not just before it.
    expect(sent - sentBeforeKill).toBeGreaterThanOrEqual(10);
    expect(stack.gateways[1].exited).toBe(false);
  });
});
