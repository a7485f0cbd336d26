import { ErrorCode } from '@ephemeral/protocol';

import {
  candidateIndex,
  DEFAULT_REDIS_URL,
  DistributedStack,
  ensureKafka,
  eventually,
  freePort,
  resetKafka,
  signals,
  sleep,
  stopKafka,
  type KafkaInstance,
} from '@ephemeral/testing';

// Longer than kafkajs's own retry budget (~10 s), so the consumers crash
// and must be brought back, not just ride out a blip.
const OUTAGE_MS = 25_000;
// Signaling must be back this soon after the broker: a replaced consumer
// (0.5-5 s backoff) joins a fresh group at once (ADR 0007 §6); 2-3 s measured.
const RECOVERY_MS = 20_000;
// Signals each way in a round; a complete, ordered round counts as recovered.
const ROUND = 10;

/**
 * Stops the broker under running gateways. It uses a private broker (own
 * ports and data dir, the same tools/kafka/kafka.sh) so suites sharing the
 * default one are not disturbed.
 */
describe('Kafka outage under running gateways', () => {
  let kafka: KafkaInstance;
  let stack: DistributedStack;

  beforeAll(async () => {
    // Two tries with fresh ports: a port freePort() saw free can be taken
    // by the time the JVM binds it on a busy machine.
    let brokers = '';
    for (let attempt = 1; !brokers; attempt++) {
      kafka = {
        port: await freePort(),
        controllerPort: await freePort(),
        dataDir: '.cache/kafka/run-distributed-e2e-outage',
      };
      await resetKafka(kafka);
      brokers = await ensureKafka(kafka).catch((error: unknown) => {
        if (attempt >= 2) throw error;
        return '';
      });
    }
    stack = await DistributedStack.start({
      kafkaBrokers: brokers,
      kafkaInstance: kafka,
      redisUrl: DEFAULT_REDIS_URL,
    });
  }, 180_000);

  afterAll(async () => {
    await stack?.disconnectPeers();
    await stack?.stop();
    if (kafka) await resetKafka(kafka);
  }, 60_000);

  it(
    'answers UNAVAILABLE while the broker is down, keeps sockets and processes, and recovers by itself',
    async () => {
      const a = await stack.connect(0);
      const b = await stack.connect(1);
      a.signal(b.peerId, signals.offer());
      expect((await b.next('signal')).from).toBe(a.peerId);
      const pids = stack.gateways.map((gateway) => gateway.pid);

      await stopKafka(kafka);
      const downAt = Date.now();

      // Every signal sent during the outage is answered, never dropped in silence.
      let n = 0;
      let sawNotReady = [false, false];
      while (Date.now() - downAt < OUTAGE_MS) {
        const seq = a.signal(b.peerId, signals.candidate(n++));
        const refused = await a.next('error', 5_000);
        expect(refused.code).toBe(ErrorCode.ERROR_CODE_UNAVAILABLE);
        expect(refused.seq).toBe(seq);
        sawNotReady = await Promise.all(
          [0, 1].map(async (i) => sawNotReady[i] || (await stack.readiness(i)) === 503),
        );
        await sleep(1_000); // one signal a second through the outage: pacing, not a wait
      }
      expect(sawNotReady).toEqual([true, true]);
      expect(b.pending('signal')).toBe(0);
      expect(a.isClosed || b.isClosed).toBe(false);
      expect(stack.gateways.map((gateway) => gateway.exited)).toEqual([false, false]);

      await ensureKafka(kafka);
      const upAt = Date.now();

      // Recovered = a complete round both ways, in order, none lost.
      let recoveredMs: number | undefined;
      let base = 10_000;
      while (recoveredMs === undefined && Date.now() - upAt < RECOVERY_MS) {
        await sleep(1_000); // one round a second: pacing, not a wait
        for (const client of [a, b]) {
          while (client.pending('error') > 0) await client.next('error');
          while (client.pending('signal') > 0) await client.next('signal');
        }
        base += 1_000;
        for (let k = 0; k < ROUND; k++) {
          a.signal(b.peerId, signals.candidate(base + k));
          b.signal(a.peerId, signals.candidate(base + k));
        }
        // A round delivered within 1 s counts; a slower or lossy one is
        // followed by a fresh round.
        const complete = await eventually(
          () => b.pending('signal') >= ROUND && a.pending('signal') >= ROUND,
          { timeoutMs: 1_000, description: `round ${base} delivered both ways` },
        ).then(
          () => b.pending('signal') === ROUND && a.pending('signal') === ROUND,
          () => false,
        );
        const inOrder =
          complete &&
          [b, a].every((receiver) =>
            receiver
              .pendingFrames('signal')
              .every((frame, k) => candidateIndex(frame) === base + k),
          );
        if (inOrder) recoveredMs = Date.now() - upAt;
      }
      expect(stack.gateways.map((gateway) => gateway.pid)).toEqual(pids);
      expect(stack.gateways.map((gateway) => gateway.exited)).toEqual([false, false]);
      expect(a.isClosed || b.isClosed).toBe(false);
      if (recoveredMs === undefined) {
        const logs = stack.gateways.map((gateway) => gateway.tail(60)).join('\n');
        throw new Error(`no complete round of signals within ${RECOVERY_MS} ms:\n${logs}`);
      }
      // Ready again by itself (a consumer counts as flowing within 3 s of a fetch).
      await eventually(
        async () =>
          expect(await Promise.all([0, 1].map((i) => stack.readiness(i)))).toEqual([200, 200]),
        { timeoutMs: 5_000, intervalMs: 250, description: 'both gateways ready (/readyz 200)' },
      );
      process.stdout.write(
        `kafka outage: a complete, ordered round of signals ${recoveredMs} ms after the broker\n`,
      );
    },
    OUTAGE_MS + 2 * RECOVERY_MS + 30_000,
  );
});
