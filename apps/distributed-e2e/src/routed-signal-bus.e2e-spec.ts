import { createHash } from 'node:crypto';

import { Kafka, logLevel, type Producer } from 'kafkajs';

import { ErrorCode, SignalRecord } from '@ephemeral/protocol';
import { BusTopics } from '@ephemeral/protocol/presence';
import {
  candidateIndex,
  DEFAULT_KAFKA_BROKERS,
  DEFAULT_REDIS_URL,
  DistributedStack,
  eventually,
  kafkaServiceSasl,
  type MetricsSnapshot,
  SignalingClient,
  signals,
} from '@ephemeral/testing';

const GATEWAYS = 4;
const PEERS_PER_GATEWAY = 3;
const SIGNALS_PER_PAIR = 5;
// Short leases: the dead-gateway case waits for a slot lease to expire.
const LEASE_TTL_SECONDS = 3;
// The routed topic as tools/kafka/provision.conf creates it.
const SLOT_ID_PREFIX = '00000000-0000-4000-8000-';

const consumed = (m: MetricsSnapshot) =>
  m.value('ephemeral_gateway_bus_records_consumed_total', { bus: 'routed' });
const outcome = (m: MetricsSnapshot, name: string) =>
  m.value('ephemeral_gateway_routed_bus_records_total', { outcome: name });

// Waits here are on a whole distributed stack on a loaded machine: generous.
const WAIT_MS = 30_000;

describe('routed signal bus: 4 gateways, each reads only its own partition slot', () => {
  let stack: DistributedStack;

  beforeAll(async () => {
    stack = await DistributedStack.start({
      kafkaBrokers: DEFAULT_KAFKA_BROKERS,
      redisUrl: DEFAULT_REDIS_URL,
      gateways: GATEWAYS,
      gatewayEnv: {
        SIGNAL_BUS: 'routed',
        LEASE_TTL_SECONDS: String(LEASE_TTL_SECONDS),
        MAX_SIGNALS_PER_TARGET_PER_SECOND: '1000',
        MAX_SIGNALS_PER_TARGET_BURST: '1000',
      },
    });
  });

  afterEach(async () => {
    await stack?.disconnectPeers();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('delivers between every pair of gateways, in order, and each gateway consumes only what is addressed to it', async () => {
    for (let g = 0; g < GATEWAYS; g++) {
      await eventually(async () => (await stack.readiness(g)) === 200, {
        description: `gateway ${g + 1} ready`,
        timeoutMs: WAIT_MS,
      });
    }
    const slots = await Promise.all(
      Array.from({ length: GATEWAYS }, async (_, g) =>
        (await stack.scrapeGatewayMetrics(g)).value('ephemeral_gateway_routed_bus_slot'),
      ),
    );
    expect(new Set(slots).size).toBe(GATEWAYS);
    expect(slots.every((slot) => slot >= 0)).toBe(true);

    const peers: SignalingClient[][] = [];
    for (let g = 0; g < GATEWAYS; g++) {
      peers[g] = [];
      for (let p = 0; p < PEERS_PER_GATEWAY; p++) peers[g].push(await stack.connect(g));
    }
    const before = await Promise.all(
      Array.from({ length: GATEWAYS }, (_, g) => stack.scrapeGatewayMetrics(g)),
    );
    const all = peers.flatMap((onGateway, g) => onGateway.map((client) => ({ client, g })));
    const addressed = new Array<number>(GATEWAYS).fill(0);
    // Every peer sends to every other peer (same gateway too): numbered
    // candidates, so order per (sender, target) can be checked.
    for (const from of all) {
      for (const to of all) {
        if (from === to) continue;
        for (let n = 0; n < SIGNALS_PER_PAIR; n++) {
          from.client.signal(to.client.peerId, signals.candidate(n));
          addressed[to.g] += 1;
        }
      }
    }
    const expectedPerPeer = (all.length - 1) * SIGNALS_PER_PAIR;
    for (const { client } of all) {
      const bySender = new Map<string, number[]>();
      for (let i = 0; i < expectedPerPeer; i++) {
        const frame = await client.next('signal', 30_000);
        const seen = bySender.get(frame.from) ?? [];
        seen.push(candidateIndex(frame));
        bySender.set(frame.from, seen);
      }
      expect(bySender.size).toBe(all.length - 1);
      for (const seen of bySender.values()) {
        expect(seen).toEqual(Array.from({ length: SIGNALS_PER_PAIR }, (_, n) => n));
      }
      expect(client.pending('error')).toBe(0);
    }
    for (let g = 0; g < GATEWAYS; g++) {
      const after = await stack.scrapeGatewayMetrics(g);
      const read = consumed(after) - consumed(before[g]);
      // Exactly its own share: records are produced to the target's slot only.
      expect(read).toBeGreaterThanOrEqual(addressed[g]);
      expect(read).toBeLessThanOrEqual(addressed[g] * 1.03);
      expect(outcome(after, 'delivered') - outcome(before[g], 'delivered')).toBe(addressed[g]);
    }
  });

  it('a peer that resumes on another gateway gets the signals sent meanwhile; one that left makes its sender hear PEER_NOT_FOUND', async () => {
    const a = await stack.connect(0);
    const b = await stack.connect(1);
    // Warm gateway 1's view of b (owner cache: gateway 2).
    a.signal(b.peerId, signals.candidate(0));
    expect(candidateIndex(await b.next('signal'))).toBe(0);
    const { peerId, resumeToken } = b.welcome!;
    await b.terminate();
    const resumed = await SignalingClient.connectAndHello(stack.wsUrl(2), {
      resumePeerId: peerId,
      resumeToken,
    });
    expect(resumed.welcome?.resumed).toBe(true);
    // Sent while a's gateway may still route to b's old gateway: each one
    // is delivered, in order, or answered UNAVAILABLE (resend) by the old
    // gateway; none is lost.
    const seqOf = new Map<number, number>();
    for (let n = 1; n <= 20; n++) seqOf.set(a.signal(peerId, signals.candidate(n)), n);
    await eventually(async () => resumed.pending('signal') + a.pending('error') >= 20, {
      description: 'every signal delivered or answered',
      timeoutMs: WAIT_MS,
    });
    const delivered = resumed.pendingFrames('signal').map((frame) => candidateIndex(frame));
    const errors = a.pendingFrames('error');
    for (const error of errors) expect(error.code).toBe(ErrorCode.ERROR_CODE_UNAVAILABLE);
    const refused = errors.map((error) => seqOf.get(error.seq) ?? -1);
    for (let i = 0; i < delivered.length; i++) await resumed.next('signal');
    for (let i = 0; i < errors.length; i++) await a.next('error');
    expect(delivered).toEqual([...delivered].sort((x, y) => x - y));
    expect([...delivered, ...refused].sort((x, y) => x - y)).toEqual(
      Array.from({ length: 20 }, (_, n) => n + 1),
    );
    // Resent, as a client does on UNAVAILABLE: it reaches b at its new gateway.
    let arrived = -1;
    for (let attempt = 0; attempt < 100 && arrived < 0; attempt++) {
      a.signal(peerId, signals.candidate(500 + attempt));
      await eventually(async () => resumed.pending('signal') + a.pending('error') > 0, {
        description: 'the resend delivered or answered',
        timeoutMs: WAIT_MS,
      });
      if (resumed.pending('signal') > 0) arrived = candidateIndex(await resumed.next('signal'));
      else await a.next('error');
    }
    expect(arrived).toBeGreaterThanOrEqual(500);

    // Now it leaves for good: every signal a sends is either refused at
    // once or answered by the bus, never silently dropped. Right after the
    // leave a gateway may still see the lease (its lookup is cached for 1 s)
    // and answer UNAVAILABLE ("resend"); once the leave is known everywhere
    // the answer is PEER_NOT_FOUND.
    await resumed.close();
    const leftAnswers = [ErrorCode.ERROR_CODE_PEER_NOT_FOUND, ErrorCode.ERROR_CODE_UNAVAILABLE];
    const seqs: number[] = [];
    for (let n = 0; n < 5; n++) seqs.push(a.signal(peerId, signals.candidate(100 + n)));
    const answered = new Set<number>();
    for (let n = 0; n < seqs.length; n++) {
      const error = await a.next('error', 30_000);
      expect(leftAnswers).toContain(error.code);
      answered.add(error.seq);
    }
    expect([...answered].sort((x, y) => x - y)).toEqual(seqs);
    // Resent while the answer is UNAVAILABLE; any other answer ends the wait
    // and must be PEER_NOT_FOUND.
    let attempt = 0;
    const settled = await eventually(
      async () => {
        a.signal(peerId, signals.candidate(600 + attempt++));
        const { code } = await a.next('error', 30_000);
        return code !== ErrorCode.ERROR_CODE_UNAVAILABLE && code;
      },
      { description: 'the leave known to every gateway (PEER_NOT_FOUND)', timeoutMs: 15_000 },
    );
    expect(settled).toBe(ErrorCode.ERROR_CODE_PEER_NOT_FOUND);
    await resumed.terminate();
  });

  it('a dead gateway’s slot is claimed anew after its lease expired, and its backlog is never read as the new holder’s', async () => {
    const victim = GATEWAYS - 1;
    const deadSlot = (await stack.scrapeGatewayMetrics(victim)).value(
      'ephemeral_gateway_routed_bus_slot',
    );
    const slotCount = 64;
    await stack.gateways[victim].kill9();
    const slotLeaseId = SLOT_ID_PREFIX + deadSlot.toString(16).padStart(12, '0');
    await eventually(async () => !(await stack.isOnline(slotLeaseId)), {
      description: 'the dead gateway’s slot lease expired',
      timeoutMs: WAIT_MS,
    });

    // Backlog for the dead holder, as a sender with a stale table writes it.
    const kafka = new Kafka({
      clientId: 'routed-e2e',
      brokers: [DEFAULT_KAFKA_BROKERS],
      sasl: kafkaServiceSasl('gateway'),
      logLevel: logLevel.NOTHING,
    });
    const producer: Producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      const backlog = Array.from({ length: 20 }, (_, n) =>
        SignalRecord.encode({
          to: SLOT_ID_PREFIX + 'ffffffffffff',
          from: SLOT_ID_PREFIX + 'fffffffffffe',
          signal: signals.candidate(n),
          originGatewayId: 'gone',
          sentAtUnixMs: Date.now(),
          slotToken: 1,
          hops: 0,
          undeliverable: ErrorCode.ERROR_CODE_UNSPECIFIED,
          senderSeq: n,
          fromIdentity: undefined,
        }).finish(),
      );
      await producer.send({
        topic: BusTopics.ROUTED_SIGNALS,
        acks: -1,
        messages: backlog.map((value) => ({
          key: 'backlog',
          value: Buffer.from(value),
          partition: deadSlot,
        })),
      });

      // A new gateway whose first choice is exactly that slot.
      let newId = '';
      for (let i = 0; i < 100_000 && !newId; i++) {
        const candidate = `gw9x${i}-${stack.runId}`;
        const first = createHash('sha256').update(candidate).digest().readUInt32BE(0);
        if (first % slotCount === deadSlot) newId = candidate;
      }
      expect(newId).not.toBe('');
      stack.options.gatewayEnv = { ...stack.options.gatewayEnv, GATEWAY_ID: newId };
      await stack.startGateway(victim);
      await eventually(async () => (await stack.readiness(victim)) === 200, {
        description: 'new gateway ready',
        timeoutMs: WAIT_MS,
      });
      const fresh = await stack.scrapeGatewayMetrics(victim);
      expect(fresh.value('ephemeral_gateway_routed_bus_slot')).toBe(deadSlot);

      // A stale sender's record (old token) for a peer of the new holder: fenced.
      const peer = await stack.connect(victim);
      await producer.send({
        topic: BusTopics.ROUTED_SIGNALS,
        acks: -1,
        messages: [
          {
            key: peer.peerId,
            partition: deadSlot,
            value: Buffer.from(
              SignalRecord.encode({
                to: SLOT_ID_PREFIX + 'ffffffffffff',
                from: peer.peerId,
                signal: signals.candidate(7),
                originGatewayId: 'gone',
                sentAtUnixMs: Date.now(),
                slotToken: 1,
                hops: 0,
                undeliverable: ErrorCode.ERROR_CODE_UNSPECIFIED,
                senderSeq: 1,
                fromIdentity: undefined,
              }).finish(),
            ),
          },
        ],
      });
      // And a real signal through the bus.
      const sender = await stack.connect(0);
      sender.signal(peer.peerId, signals.candidate(42));
      expect(candidateIndex(await peer.next('signal', 30_000))).toBe(42);
      await eventually(
        async () => outcome(await stack.scrapeGatewayMetrics(victim), 'fenced') === 1,
        { description: 'the stale record was fenced', timeoutMs: WAIT_MS },
      );
      const after = await stack.scrapeGatewayMetrics(victim);
      // The 20 backlog records were never read: only the fenced one and the real one.
      expect(consumed(after)).toBe(2);
      expect(outcome(after, 'delivered')).toBe(1);
      expect(peer.pending('signal')).toBe(0);
    } finally {
      await producer.disconnect();
    }
  });
});
