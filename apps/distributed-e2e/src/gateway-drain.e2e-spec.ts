import { CloseCode } from '@ephemeral/protocol';

import {
  candidateIndex,
  type DistributedStack,
  SignalingClient,
  signals,
  sleep,
} from '@ephemeral/testing';

import { DRAIN_TIMEOUT_MS, LEASE_TTL_SECONDS, startDrainingStack } from './draining-stack';

const ICE_CANDIDATES = 10;

describe('SIGTERM drain of a gateway mid-negotiation (distributed mode)', () => {
  let stack: DistributedStack;
  const clients: SignalingClient[] = [];

  beforeAll(async () => {
    stack = await startDrainingStack();
  });

  afterAll(async () => {
    await Promise.all(clients.splice(0).map((client) => client.terminate()));
    await stack?.stop();
  });

  it('A is told to reconnect, resumes its ID on gateway 2, and the negotiation with B finishes in order', async () => {
    const a = await SignalingClient.connectAndHello(stack.wsUrl(0));
    const b = await SignalingClient.connectAndHello(stack.wsUrl(1));
    clients.push(a, b);
    const { peerId, resumeToken } = a.welcome!;

    // Mid-negotiation: B holds A's offer and has not answered yet.
    a.signal(b.peerId, signals.offer());
    expect(await b.next('signal')).toMatchObject({ from: peerId, to: b.peerId });

    const started = Date.now();
    const gateway1Exit = stack.gateways[0].stop('SIGTERM', DRAIN_TIMEOUT_MS + 5_000);
    const reconnect = await a.next('reconnect');
    expect(reconnect.retryAfterMs).toBeGreaterThan(0);
    expect((await a.closed).code).toBe(CloseCode.GOING_AWAY);

    const resumed = await SignalingClient.connectAndHello(stack.wsUrl(1), {
      resumePeerId: peerId,
      resumeToken,
    });
    clients.push(resumed);
    expect(resumed.welcome).toMatchObject({ peerId, resumed: true });
    expect(await stack.isOnline(peerId)).toBe(true);

    // The rest of the negotiation, both peers now on gateway 2.
    b.signal(peerId, signals.answer());
    const answer = await resumed.next('signal');
    expect(answer).toMatchObject({ from: b.peerId, to: peerId });
    expect(answer.signal?.payload?.$case).toBe('answer');
    for (let n = 0; n < ICE_CANDIDATES; n++) {
      resumed.signal(b.peerId, signals.candidate(n));
      b.signal(peerId, signals.candidate(100 + n));
    }
    const atB: number[] = [];
    const atA: number[] = [];
    for (let n = 0; n < ICE_CANDIDATES; n++) {
      const toB = await b.next('signal');
      const toA = await resumed.next('signal');
      expect(toB.from).toBe(peerId);
      expect(toA.from).toBe(b.peerId);
      atB.push(candidateIndex(toB));
      atA.push(candidateIndex(toA));
    }
    expect(atB).toEqual(Array.from({ length: ICE_CANDIDATES }, (_, n) => n));
    expect(atA).toEqual(Array.from({ length: ICE_CANDIDATES }, (_, n) => 100 + n));

    expect(await gateway1Exit).toBe(0);
    const drained = stack.gateways[0].logRecords().find((r) => r.msg === 'clients drained');
    expect(drained).toMatchObject({ sessions: 1, left: 0 });

    // Deliberately a sleep, past the TTL of the lease gateway 1 held: had it
    // been left to expire, presence would have announced A LEFT by now.
    await sleep(LEASE_TTL_SECONDS * 1000 + 1_000);
    expect(b.pending('peerLeft')).toBe(0);
    expect(resumed.pending('peerLeft') + resumed.pending('error') + b.pending('error')).toBe(0);
    expect(await stack.isOnline(peerId)).toBe(true);

    // Gateway 2 saw it all: both peers, the relays through Kafka, per-partition lag.
    const metrics = await stack.scrapeGatewayMetrics(1);
    expect(metrics.value('ephemeral_gateway_peers_connected')).toBe(2);
    expect(metrics.value('ephemeral_gateway_leases_held')).toBe(2);
    expect(metrics.value('ephemeral_gateway_signals_delivered_total', { kind: 'candidate' })).toBe(
      2 * ICE_CANDIDATES,
    );
    expect(metrics.value('ephemeral_gateway_kafka_produce_errors_total')).toBe(0);
    // Gateway 2's signals went to Kafka in requests of one or more.
    const requests = metrics.value('ephemeral_gateway_kafka_produce_requests_total');
    expect(requests).toBeGreaterThan(0);
    const relayed = ['offer', 'answer', 'candidate', 'bye'].reduce(
      (sum, kind) => sum + metrics.value('ephemeral_gateway_signals_relayed_total', { kind }),
      0,
    );
    expect(relayed).toBe(2 * ICE_CANDIDATES + 1); // + B's answer
    expect(requests).toBeLessThanOrEqual(relayed);
    expect(metrics.has('ephemeral_gateway_kafka_consumer_lag')).toBe(true);
    expect(metrics.value('ephemeral_gateway_kafka_consumer_lag', { consumer: 'signals' })).toBe(0);
    expect(Date.now() - started).toBeLessThan(DRAIN_TIMEOUT_MS + LEASE_TTL_SECONDS * 1000 + 5_000);
  });
});
