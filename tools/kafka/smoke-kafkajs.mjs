#!/usr/bin/env node
// Smoke test: does kafkajs (the client the gateway uses) work against the local
// broker that tools/kafka/kafka.sh starts? It checks the logins first (no
// credentials: refused; SCRAM-SHA-512 as the `gateway` user: accepted), then,
// as the broker's admin, walks the path the signaling bus takes: create a
// topic, join a consumer group at the latest offset, produce keyed records one
// by one, consume them, and check per-key order. It prints a rough
// produce→consume latency. Evidence for docs/decisions/0002.
//
//   node tools/kafka/smoke-kafkajs.mjs      (KAFKA_BROKERS or KAFKA_PORT to override,
//                                            KAFKA_DATA_DIR for the credentials)
//
// Exit 0 on success, 1 on any failure or when the whole run exceeds the deadline.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';

const { Kafka, Partitioners, logLevel } = kafkajs;

const BROKERS = (
  process.env.KAFKA_BROKERS ?? `127.0.0.1:${process.env.KAFKA_PORT ?? '19092'}`
).split(',');
// 200 records over 20 keys: enough for a latency spread and for per-key order
// to mean something across 3 partitions, small enough to finish in seconds.
const RECORD_COUNT = 200;
const KEY_COUNT = 20;
const PARTITIONS = 3;
// Hard stop well under a minute, so a hung client can never stall CI.
const DEADLINE_MS = 50_000;

// The passwords kafka.sh generated (<data dir>/credentials/<user>.password).
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CREDENTIALS = join(
  resolve(REPO_ROOT, process.env.KAFKA_DATA_DIR ?? '.cache/kafka/run'),
  'credentials',
);
const password = (user) => readFileSync(join(CREDENTIALS, `${user}.password`), 'utf8');

const runId = `${Date.now()}-${process.pid}`;
const topic = `smoke.kafkajs.${runId}`;
const groupId = `smoke-kafkajs-${runId}`;

const watchdog = setTimeout(() => {
  console.error(`FAIL: smoke test did not finish within ${DEADLINE_MS / 1000} s`);
  process.exit(1);
}, DEADLINE_MS);

const client = (sasl, level = logLevel.WARN) =>
  new Kafka({
    clientId: 'smoke-kafkajs',
    brokers: BROKERS,
    ...(sasl ? { sasl } : {}),
    logLevel: level,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    // Few retries: an unsupported API version should surface as an error quickly,
    // not after kafkajs's default backoff of about half a minute.
    retry: { retries: 2, initialRetryTime: 200 },
  });
// The super user (PLAIN): creating and deleting a topic of its own needs it.
const kafka = client({ mechanism: 'plain', username: 'admin', password: password('admin') });
const admin = kafka.admin();
// The Java-compatible murmur2 partitioner, so a key lands on the same partition
// whichever client produced it.
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500 });

const step = async (name, fn) => {
  const t0 = performance.now();
  try {
    const result = await fn();
    console.log(`ok   ${name} (${(performance.now() - t0).toFixed(0)} ms)`);
    return result;
  } catch (error) {
    // Name the step and the kafkajs error fields: that is the compatibility evidence.
    console.error(`FAIL ${name}: ${error?.name}: ${error?.message}`);
    for (const field of ['type', 'code', 'retriable', 'broker']) {
      if (error?.[field] !== undefined) console.error(`     ${field}: ${error[field]}`);
    }
    if (error?.cause) console.error(`     cause: ${error.cause.name}: ${error.cause.message}`);
    throw error;
  }
};

// Rejects with a message naming what was awaited, so a silent hang becomes a
// readable failure well before the watchdog fires.
const within = (ms, promise, what) =>
  Promise.race([
    promise,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what()}`)), ms),
    ),
  ]);

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function main() {
  console.log(`kafkajs smoke test against ${BROKERS.join(',')}, topic ${topic}`);

  await step('no credentials: refused', async () => {
    const anonymous = client(undefined, logLevel.NOTHING).admin();
    // connect() alone may succeed: ApiVersions is answered before SASL.
    const refused = await anonymous
      .connect()
      .then(() => anonymous.listTopics())
      .then(
        () => false,
        () => true,
      );
    await anonymous.disconnect().catch(() => undefined);
    if (!refused) throw new Error('the broker accepted a client without credentials');
  });
  await step('SCRAM-SHA-512 login as gateway', async () => {
    const gateway = client({
      mechanism: 'scram-sha-512',
      username: 'gateway',
      password: password('gateway'),
    }).admin();
    try {
      await gateway.connect();
      await gateway.listTopics();
    } finally {
      await gateway.disconnect().catch(() => undefined);
    }
  });
  await step('admin connect', () => admin.connect());
  const cluster = await step('describe cluster', () => admin.describeCluster());
  console.log(
    `     brokers: ${cluster.brokers.map((b) => `${b.nodeId}@${b.host}:${b.port}`).join(', ')}`,
  );
  await step('create topic', () =>
    admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
    }),
  );

  const sentAt = new Map();
  const latencies = [];
  const lastSeqByKey = new Map();
  let orderViolations = 0;
  let resolveAll;
  const allReceived = new Promise((resolve) => (resolveAll = resolve));

  // With fromBeginning=false a new group starts at the latest offset, which is
  // resolved on the first fetch. Producing before that fetch could land records
  // before the start offset and lose them, so wait for the first FETCH event.
  let resolveFirstFetch;
  const firstFetch = new Promise((resolve) => (resolveFirstFetch = resolve));
  const removeFetchListener = consumer.on(consumer.events.FETCH, () => resolveFirstFetch());

  await step('consumer connect', () => consumer.connect());
  await step('consumer subscribe (latest offset)', () =>
    consumer.subscribe({ topic, fromBeginning: false }),
  );
  await step('consumer run', () =>
    consumer.run({
      eachMessage: async ({ message }) => {
        const receivedAt = performance.now();
        const { seq } = JSON.parse(message.value.toString());
        const key = message.key.toString();
        latencies.push(receivedAt - sentAt.get(seq));
        if ((lastSeqByKey.get(key) ?? -1) > seq) orderViolations += 1;
        lastSeqByKey.set(key, seq);
        if (latencies.length === RECORD_COUNT) resolveAll();
      },
    }),
  );
  await step('group joined, first fetch done', () =>
    within(20_000, firstFetch, () => 'the first fetch'),
  );
  removeFetchListener();

  await step('producer connect', () => producer.connect());
  const produceStart = performance.now();
  await step(`produce ${RECORD_COUNT} records one by one (acks=all)`, async () => {
    for (let seq = 0; seq < RECORD_COUNT; seq += 1) {
      sentAt.set(seq, performance.now());
      await producer.send({
        topic,
        acks: -1,
        messages: [{ key: `peer-${seq % KEY_COUNT}`, value: JSON.stringify({ seq }) }],
      });
    }
  });
  const produceMs = performance.now() - produceStart;
  await step(`consume ${RECORD_COUNT} records`, () =>
    within(15_000, allReceived, () => `records (got ${latencies.length} of ${RECORD_COUNT})`),
  );

  latencies.sort((a, b) => a - b);
  const fmt = (ms) => `${ms.toFixed(1)} ms`;
  console.log(
    `     produce: ${RECORD_COUNT} sequential sends in ${fmt(produceMs)} ` +
      `(${fmt(produceMs / RECORD_COUNT)} per send)`,
  );
  console.log(
    `     produce→consume latency: p50 ${fmt(percentile(latencies, 50))}, ` +
      `p95 ${fmt(percentile(latencies, 95))}, p99 ${fmt(percentile(latencies, 99))}, ` +
      `max ${fmt(latencies[latencies.length - 1])}`,
  );
  if (orderViolations > 0) {
    throw new Error(`${orderViolations} records arrived out of order within their key`);
  }
  console.log(`ok   per-key order kept across ${KEY_COUNT} keys`);
}

async function cleanUp() {
  // Best effort: a failed disconnect must not hide the real result.
  await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
  await admin.deleteTopics({ topics: [topic], timeout: 5_000 }).catch(() => undefined);
  await admin.disconnect().catch(() => undefined);
}

let exitCode = 0;
try {
  await main();
  console.log('PASS kafkajs smoke test');
} catch {
  exitCode = 1;
} finally {
  await cleanUp();
  clearTimeout(watchdog);
}
process.exit(exitCode);
