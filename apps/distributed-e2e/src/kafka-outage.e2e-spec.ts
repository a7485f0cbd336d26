import { ErrorCode } from '@ephemeral/protocol';

import {
  DEFAULT_REDIS_URL,
  DistributedStack,
  ensureKafka,
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
// Bound on "signaling resumes by itself" after the broker is back.
const RECOVERY_MS = 60_000;

async function eventually<T>(
  what: string,
  timeoutMs: number,
  attempt: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await attempt();
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(250);
  }
}

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
    stack = await DistributedStack.start({ kafkaBrokers: brokers, redisUrl: DEFAULT_REDIS_URL });
  }, 180_000);

  afterAll(async () => {
    await stack?.disconnectPeers();
    await stack?.stop();
    if (kafka) await resetKafka(kafka);
  }, 60_000);

  it('answers UNAVAILABLE while the broker is down, keeps sockets, and resumes when it returns', async () => {
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
      await sleep(1_000);
    }
    expect(sawNotReady).toEqual([true, true]);
    expect(b.pending('signal')).toBe(0);
    expect(a.isClosed || b.isClosed).toBe(false);
    expect(stack.gateways.map((gateway) => gateway.exited)).toEqual([false, false]);

    await ensureKafka(kafka);
    const upAt = Date.now();

    // Without restarting anything: signals flow again, both ways (each
    // gateway's consumer comes back on its own schedule), within the bound.
    let aToB = false;
    let bToA = false;
    await eventually('signals cross gateways again both ways', RECOVERY_MS, async () => {
      if (!aToB) a.signal(b.peerId, signals.candidate(n++));
      if (!bToA) b.signal(a.peerId, signals.candidate(n++));
      await sleep(500);
      aToB ||= b.pending('signal') > 0;
      bToA ||= a.pending('signal') > 0;
      return aToB && bToA ? true : undefined;
    }).catch((error: unknown) => {
      // What the bus said while it did not come back.
      const busLines = stack.gateways.flatMap((gateway, i) =>
        gateway.output
          .filter((line) => /kafka|signal bus|consumer|producer/i.test(line))
          .slice(-15)
          .map((line) => `gateway ${i + 1}: ${line.slice(0, 400)}`),
      );
      throw new Error(`${String(error)}\n${busLines.join('\n')}`);
    });
    const recoveredMs = Date.now() - upAt;
    // Late deliveries of probes still in flight, then a clean slate.
    await sleep(2_000);
    for (const client of [a, b]) {
      while (client.pending('error') > 0) await client.next('error');
      while (client.pending('signal') > 0) await client.next('signal');
    }

    for (let k = 0; k < 20; k++) {
      a.signal(b.peerId, signals.candidate(5000 + k));
      b.signal(a.peerId, signals.candidate(6000 + k));
    }
    for (let k = 0; k < 20; k++) {
      expect((await b.next('signal')).from).toBe(a.peerId);
      expect((await a.next('signal')).from).toBe(b.peerId);
    }
    expect(a.pending('error') + b.pending('error')).toBe(0);
    await eventually('both gateways ready again', RECOVERY_MS, async () =>
      (await stack.readiness(0)) === 200 && (await stack.readiness(1)) === 200 ? true : undefined,
    );
    expect(stack.gateways.map((gateway) => gateway.pid)).toEqual(pids);
    expect(stack.gateways.map((gateway) => gateway.exited)).toEqual([false, false]);
    // For the report: how long the bus took to come back.
    process.stdout.write(`kafka outage: signaling resumed ${recoveredMs} ms after the broker\n`);
  });
});
