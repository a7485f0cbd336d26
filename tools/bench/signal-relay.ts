/**
 * Signal relay benchmark. Starts each signaling target as real processes on
 * loopback, one after the other in the same run, and drives them with the
 * same load:
 *   1. resident memory of the server processes per connected idle client,
 *      measured first, on fresh processes: the marginal cost once idle (see
 *      measureIdleMemory), and from the fresh process for reference;
 *   2. relay latency (p50/p90/p99) of small ICE-candidate signals between
 *      pairs of clients at a steady offered rate, and losses;
 *   3. throughput: the offered load rises in steps (total signals/s); each
 *      step reports what was delivered per second and its p99. The highest
 *      step delivered in full with p99 <= 100 ms is the target's sustained
 *      throughput; stepping stops at the first step that misses.
 * Prints one table with each target's figures and its ratio to the first.
 *
 * Usage: tools/bench/run.sh signal-relay [--targets embedded,peerjs]
 *          [--pairs 10] [--rate 20] [--seconds 10] [--idle 2000]
 *          [--steps 1000,2000,4000] [--step-seconds 5]
 * Targets: embedded (presence + gateway, in-process bus), kafka (the same
 * with SIGNAL_BUS=kafka against KAFKA_BROKERS, default 127.0.0.1:19092 —
 * start it with tools/kafka/kafka.sh, whose `gateway` credentials are used),
 * kafka-2gw (the distributed mode: 2
 * presence replicas on Redis, 2 gateways on Kafka, every signal crossing
 * from gateway 1 to gateway 2; needs tools/redis/redis.sh too), peerjs (npm
 * `peer`, reference).
 * Build first: NX_DAEMON=false npx nx run-many -t build -p presence,gateway
 */
import { readFileSync } from 'node:fs';

import { kafkaServiceEnv } from '@ephemeral/testing';

import { DistributedTarget } from './relay-targets/distributed-target';
import { EphemeralTarget } from './relay-targets/ephemeral-target';
import { PeerJsTarget } from './relay-targets/peerjs-target';
import type { RelayClient, RelayTarget } from './relay-targets/relay-target';

interface Options {
  targets: string[];
  pairs: number;
  /** Signals per second each sender offers. */
  rate: number;
  seconds: number;
  idle: number;
  /** Total offered signals per second of each throughput step. */
  steps: number[];
  stepSeconds: number;
}

/** Signals per second each sender offers in a throughput step. */
const STEP_RATE_PER_SENDER = 40;
/** How long idle clients stay connected before the memory reading that counts. */
const IDLE_SETTLE_MS = 20_000;
/** A step counts as sustained when all arrived and p99 stayed at or below this. */
const SUSTAINED_P99_MS = 100;

const TARGETS: Record<string, () => RelayTarget> = {
  embedded: () => new EphemeralTarget('embedded (in-process bus)'),
  kafka: () =>
    new EphemeralTarget('kafka bus', {
      gatewayEnv: {
        SIGNAL_BUS: 'kafka',
        KAFKA_BROKERS: process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092',
        // The local broker's `gateway` login (tools/kafka/kafka.sh).
        ...kafkaServiceEnv('gateway'),
      },
    }),
  'kafka-2gw': () => new DistributedTarget(),
  peerjs: () => new PeerJsTarget(),
};

function parseOptions(argv: string[]): Options {
  const options: Options = {
    targets: ['embedded', 'peerjs'],
    pairs: 10,
    rate: 20,
    seconds: 10,
    idle: 2000,
    steps: [1000, 2000, 4000],
    stepSeconds: 5,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    const raw = argv[i + 1] ?? '';
    if (key === 'targets') {
      options.targets = raw.split(',').filter(Boolean);
      const unknown = options.targets.filter((name) => !(name in TARGETS));
      if (unknown.length) throw new Error(`unknown targets ${unknown.join(',')}`);
      continue;
    }
    if (key === 'steps') {
      options.steps = raw.split(',').map(Number);
      if (options.steps.some((step) => !Number.isFinite(step) || step <= 0))
        throw new Error(`bad option --steps ${raw}`);
      continue;
    }
    if (key === 'step-seconds') {
      options.stepSeconds = Number(raw);
      if (!Number.isFinite(options.stepSeconds) || options.stepSeconds <= 0)
        throw new Error(`bad option --step-seconds ${raw}`);
      continue;
    }
    const value = Number(raw);
    if (
      !['pairs', 'rate', 'seconds', 'idle'].includes(key) ||
      !Number.isFinite(value) ||
      value <= 0
    ) {
      throw new Error(`bad option ${argv[i]} ${raw}`);
    }
    options[key as 'pairs' | 'rate' | 'seconds' | 'idle'] = value;
  }
  // Bounds: a loopback benchmark on a 2-core machine. The rate stays under
  // the gateway's default per-connection limit (50/s).
  options.pairs = Math.min(options.pairs, 200);
  options.rate = Math.min(options.rate, 45);
  options.seconds = Math.min(options.seconds, 60);
  options.idle = Math.min(options.idle, 4000);
  // At most 6 steps of at most 20 s, up to 16,000 signals/s (400 pairs).
  options.steps = options.steps.slice(0, 6).map((step) => Math.min(step, 16_000));
  options.stepSeconds = Math.min(options.stepSeconds, 20);
  return options;
}

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

function totalRss(pids: Record<string, number>): number {
  return Object.values(pids).reduce((sum, pid) => sum + rssBytes(pid), 0);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Load {
  pairs: number;
  /** Signals per second each sender offers. */
  rate: number;
  seconds: number;
}

async function connectPairs(target: RelayTarget, count: number) {
  const pairs: Array<{ a: RelayClient; b: RelayClient }> = [];
  // Batches of 25 pairs keep the handshake rate realistic.
  for (let i = 0; i < count; i += 25) {
    const batch = Math.min(25, count - i);
    pairs.push(
      ...(await Promise.all(
        Array.from({ length: batch }, async () => ({
          a: await target.connect('a'),
          b: await target.connect('b'),
        })),
      )),
    );
  }
  return pairs;
}

async function measureLatency(target: RelayTarget, load: Load) {
  const pairs = await connectPairs(target, load.pairs);
  const sentAt = new Map<string, bigint>();
  const latenciesMs: number[] = [];
  let received = 0;
  // The first second warms up connections and JIT; its samples are dropped.
  const warmupEnds = process.hrtime.bigint() + 1_000_000_000n;
  for (const { b } of pairs) {
    b.onReceive((tag) => {
      const now = process.hrtime.bigint();
      const start = sentAt.get(tag);
      if (start === undefined) return;
      sentAt.delete(tag);
      received += 1;
      if (start >= warmupEnds) latenciesMs.push(Number(now - start) / 1e6);
    });
  }
  let sent = 0;
  const intervalMs = 1000 / load.rate;
  const ticks = Math.round(load.seconds * load.rate);
  const started = Date.now();
  for (let tick = 0; tick < ticks; tick++) {
    pairs.forEach(({ a, b }, index) => {
      const tag = `${index}:${tick}`;
      sentAt.set(tag, process.hrtime.bigint());
      a.send(b.id, tag);
      sent += 1;
    });
    await sleep(Math.max(0, started + (tick + 1) * intervalMs - Date.now()));
  }
  const sendingMs = Date.now() - started;
  // Let the last signals arrive: up to 3 s, less once all are in.
  const drainUntil = Date.now() + 3000;
  while (received < sent && Date.now() < drainUntil) await sleep(50);
  await Promise.all(pairs.flatMap(({ a, b }) => [a.close(), b.close()]));
  latenciesMs.sort((x, y) => x - y);
  return {
    offeredPerSecond: load.pairs * load.rate,
    deliveredPerSecond: Math.round(received / (sendingMs / 1000)),
    sent,
    lost: sent - received,
    p50Ms: percentile(latenciesMs, 50),
    p90Ms: percentile(latenciesMs, 90),
    p99Ms: percentile(latenciesMs, 99),
  };
}

async function measureThroughput(target: RelayTarget, options: Options) {
  const steps: Array<Awaited<ReturnType<typeof measureLatency>>> = [];
  let sustainedPerSecond = 0;
  for (const offered of options.steps) {
    const step = await measureLatency(target, {
      pairs: Math.ceil(offered / STEP_RATE_PER_SENDER),
      rate: STEP_RATE_PER_SENDER,
      seconds: options.stepSeconds,
    });
    steps.push(step);
    if (step.lost > 0 || step.p99Ms > SUSTAINED_P99_MS) break;
    sustainedPerSecond = step.offeredPerSecond;
  }
  // Every step passed: the target's ceiling lies above the last step.
  const atLeast = sustainedPerSecond > 0 && sustainedPerSecond === steps.at(-1)?.offeredPerSecond;
  return { sustainedPerSecond, atLeast, steps };
}

async function connectIdle(target: RelayTarget, count: number): Promise<RelayClient[]> {
  const clients: RelayClient[] = [];
  // Batches of 50 keep the handshake rate realistic.
  for (let i = 0; i < count; i += 50) {
    clients.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(50, count - i) }, () => target.connect()),
      )),
    );
  }
  return clients;
}

function rssByProcess(pids: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, rssBytes(pid)]));
}

/**
 * Resident memory per idle client, three ways:
 *  - `bytesPerIdleClient`, the one compared: the marginal cost, from a
 *    quarter of the clients to all of them, each reading once they have
 *    been idle for IDLE_SETTLE_MS. What a process costs once, whatever its
 *    clients (JIT code, a young generation grown to its maximum for the
 *    first burst of handshakes: ~32 MiB in a gateway), is in neither
 *    reading; capacity is planned as a baseline plus this per client.
 *  - `bytesPerIdleClientFromFresh`: from the fresh process to all clients
 *    idle for IDLE_SETTLE_MS (the fixed costs divided among them).
 *  - `bytesPerIdleClientRightAfterConnecting`: the same, 3 s after the last
 *    connect (what this benchmark reported before ADR 0026): a heap right
 *    after a burst of handshakes still holds their garbage.
 * A gateway's idle peer is one whose lease is kept alive: IDLE_SETTLE_MS
 * spans several renewal rounds (every 5 s with the default TTL).
 */
async function measureIdleMemory(target: RelayTarget, count: number) {
  await sleep(2000);
  const pids = target.serverPids();
  const fresh = rssByProcess(pids);
  const first = Math.floor(count / 4);
  const clients = await connectIdle(target, first);
  await sleep(IDLE_SETTLE_MS);
  const quarter = rssByProcess(pids);
  clients.push(...(await connectIdle(target, count - first)));
  await sleep(3000);
  const atBurst = rssByProcess(pids);
  await sleep(IDLE_SETTLE_MS - 3000);
  const all = rssByProcess(pids);
  const sum = (rss: Record<string, number>) => Object.values(rss).reduce((a, b) => a + b, 0);
  // Per process: the marginal resident bytes per idle client.
  const perProcess = Object.fromEntries(
    Object.keys(pids).map((name) => [
      name,
      Math.round((all[name] - quarter[name]) / (count - first)),
    ]),
  );
  for (let i = 0; i < clients.length; i += 200) {
    await Promise.all(clients.slice(i, i + 200).map((client) => client.close()));
  }
  return {
    idleClients: count,
    bytesPerIdleClient: (sum(all) - sum(quarter)) / (count - first),
    bytesPerIdleClientFromFresh: (sum(all) - sum(fresh)) / count,
    bytesPerIdleClientRightAfterConnecting: (sum(atBurst) - sum(fresh)) / count,
    bytesPerIdleClientByProcess: perProcess,
  };
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const results: Array<{
    target: string;
    latency: Awaited<ReturnType<typeof measureLatency>>;
    throughput: Awaited<ReturnType<typeof measureThroughput>>;
    memory: Awaited<ReturnType<typeof measureIdleMemory>>;
  }> = [];
  for (const name of options.targets) {
    const target = TARGETS[name]();
    await target.start();
    try {
      // Memory first, on fresh processes: load grows heaps that shrink later
      // (RSS fell while idle clients were added when it was measured after).
      const memory = await measureIdleMemory(target, options.idle);
      const latency = await measureLatency(target, options);
      const throughput = await measureThroughput(target, options);
      results.push({ target: target.name, latency, throughput, memory });
    } finally {
      await target.stop();
    }
  }
  console.log(JSON.stringify({ options, results }, null, 2));
  const base = results[0];
  console.log(
    `\nlatency: ${options.pairs} pairs × ${options.rate} signals/s for ${options.seconds} s` +
      ` (${options.pairs * options.rate}/s offered); throughput steps ${options.steps.join(', ')}/s` +
      ` for ${options.stepSeconds} s each (sustained = all delivered, p99 <= ${SUSTAINED_P99_MS} ms);` +
      ` ${options.idle} idle clients (KiB: marginal, from a quarter of them to all, ${IDLE_SETTLE_MS / 1000} s idle;` +
      ` in brackets from the fresh process, ${IDLE_SETTLE_MS / 1000} s idle / 3 s after connecting)` +
      `; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
  );
  console.log(
    'target                              p50 ms  p90 ms  p99 ms  lost  delivered/s  sustained/s  KiB/idle client (fresh/3 s)  p50 ratio  p99 ratio  throughput ratio  memory ratio',
  );
  for (const { target, latency, throughput, memory } of results) {
    console.log(
      [
        target.padEnd(34),
        latency.p50Ms.toFixed(2).padStart(7),
        latency.p90Ms.toFixed(2).padStart(7),
        latency.p99Ms.toFixed(2).padStart(7),
        String(latency.lost).padStart(5),
        String(latency.deliveredPerSecond).padStart(12),
        `${throughput.atLeast ? '>=' : ''}${throughput.sustainedPerSecond}`.padStart(12),
        `${(memory.bytesPerIdleClient / 1024).toFixed(1)} (${(memory.bytesPerIdleClientFromFresh / 1024).toFixed(1)}/${(memory.bytesPerIdleClientRightAfterConnecting / 1024).toFixed(1)})`.padStart(
          27,
        ),
        (latency.p50Ms / base.latency.p50Ms).toFixed(2).padStart(10),
        (latency.p99Ms / base.latency.p99Ms).toFixed(2).padStart(10),
        (throughput.sustainedPerSecond / base.throughput.sustainedPerSecond)
          .toFixed(2)
          .padStart(17),
        (memory.bytesPerIdleClient / base.memory.bytesPerIdleClient).toFixed(2).padStart(13),
      ].join(' '),
    );
  }
  console.log('\nmarginal KiB per idle client, by process:');
  for (const { target, memory } of results) {
    const byProcess = Object.entries(memory.bytesPerIdleClientByProcess)
      .map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(1)}`)
      .join(', ');
    console.log(`  ${target.padEnd(34)} ${byProcess}`);
  }
  console.log('\nthroughput steps (offered/s → delivered/s, p99 ms, lost):');
  for (const { target, throughput } of results) {
    const steps = throughput.steps.map(
      (step) =>
        `${step.offeredPerSecond} → ${step.deliveredPerSecond} (${step.p99Ms.toFixed(1)} ms, ${step.lost})`,
    );
    console.log(`  ${target.padEnd(34)} ${steps.join('; ')}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
