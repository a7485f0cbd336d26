/**
 * Signal relay benchmark. Starts each signaling target as real processes on
 * loopback, one after the other in the same run, and drives them with the
 * same load:
 *   1. memory per connected idle client, measured first, on fresh
 *      processes: the live heap each client keeps in the process holding
 *      the sockets, with resident memory beside it (see measureIdleMemory);
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
 *          [--steps 1000,2000,4000] [--step-seconds 5] [--pin 1]
 * --pin 1: the benchmark's clients on CPU 0, every server process on the
 * other cores (relay-targets/cpu-pinning.ts), so clients and servers do not
 * take turns on the same cores.
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
import { join } from 'node:path';

import { kafkaServiceEnv, workspaceRoot } from '@ephemeral/testing';

import { GcProbe, type GcProbeReading } from './memory/gc-probe';
import { CpuPinning } from './relay-targets/cpu-pinning';
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
  /** Clients on CPU 0, servers on the other cores. */
  pin: boolean;
}

/** Signals per second each sender offers in a throughput step. */
const STEP_RATE_PER_SENDER = 40;
/** Idle clients connect in this many equal rounds, their servers probed after each. */
const MEMORY_ROUNDS = 4;
/** How long each round's clients stay idle before its reading. */
const ROUND_SETTLE_MS = 10_000;
/**
 * A round's reading is the lower of two probes this far apart: half the
 * lease-renewal period (5 s), so at most one of them lands in a renewal.
 */
const PROBES_APART_MS = 2_500;
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
    pin: false,
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
    if (key === 'pin') {
      if (raw !== '0' && raw !== '1') throw new Error(`bad option --pin ${raw} (0 or 1)`);
      options.pin = raw === '1';
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
  // At least 10 clients a round, so the rounds' counts differ (the slope).
  options.idle = Math.max(MEMORY_ROUNDS * 10, Math.min(options.idle, 4000));
  // At most 6 steps of at most 20 s, up to 16,000 signals/s (400 pairs).
  options.steps = options.steps.slice(0, 6).map((step) => Math.min(step, 16_000));
  options.stepSeconds = Math.min(options.stepSeconds, 20);
  return options;
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

/**
 * Memory per idle client. The clients connect in MEMORY_ROUNDS equal
 * rounds; after each, once they have been idle for ROUND_SETTLE_MS, every
 * server process is probed (memory/gc-probe.ts): its memory as it was, and
 * after a full collection, twice PROBES_APART_MS apart, the lower kept.
 * Each figure is the least-squares slope over the client count from the
 * second round's probe to the last (the first round
 * includes what a process costs once, whatever its clients: code compiled
 * for the handshake, pools, caches):
 *  - `bytesPerIdleClient`, the one compared: the live V8 heap after a full
 *    collection, of the processes holding the clients' sockets (a gateway;
 *    peerjs-server): the objects each client keeps alive. Resident memory
 *    was compared before (ADR 0040 says why no longer): at 4 000 clients it
 *    moves by tens of MB on its own, after a full collection too (a grown
 *    young generation stays committed);
 *  - `rssAfterGcBytesPerIdleClient` and `settledRssBytesPerIdleClient`:
 *    resident memory after the collection and as it was (what `ps` shows),
 *    of the same processes, printed for reference;
 *  - `bytesPerIdleClientByProcess`: live heap per process, every server
 *    process (presence's leases too).
 * A gateway's idle peer is one whose lease is kept alive: ROUND_SETTLE_MS
 * spans two renewal rounds (every 5 s with the default TTL).
 */
async function measureIdleMemory(target: RelayTarget, count: number, probe: GcProbe) {
  await sleep(2000);
  const pids = target.serverPids();
  const clients: RelayClient[] = [];
  const rounds: Array<{ clients: number; probes: Record<string, GcProbeReading> }> = [
    { clients: 0, probes: await probe.readAllSteady(pids, PROBES_APART_MS) },
  ];
  for (let round = 1; round <= MEMORY_ROUNDS; round++) {
    const upTo = Math.round((count * round) / MEMORY_ROUNDS);
    clients.push(...(await connectIdle(target, upTo - clients.length)));
    await sleep(ROUND_SETTLE_MS);
    rounds.push({
      clients: clients.length,
      probes: await probe.readAllSteady(pids, PROBES_APART_MS),
    });
  }
  const names = Object.keys(pids);
  const holders = target.socketHolders();
  // Rounds 2 to the last (rounds[0] is the fresh process).
  const slopeOf = (read: (probe: GcProbeReading) => number, only = holders) =>
    leastSquaresSlope(
      rounds
        .slice(2)
        .map(({ clients: n, probes }) => [
          n,
          only.reduce((sum, name) => sum + read(probes[name]), 0),
        ]),
    );
  const liveHeap = (p: GcProbeReading) => p.collected.heapUsed;
  for (let i = 0; i < clients.length; i += 200) {
    await Promise.all(clients.slice(i, i + 200).map((client) => client.close()));
  }
  return {
    idleClients: count,
    bytesPerIdleClient: slopeOf(liveHeap),
    rssAfterGcBytesPerIdleClient: slopeOf((p) => p.collected.rss),
    settledRssBytesPerIdleClient: slopeOf((p) => p.settled.rss),
    bytesPerIdleClientByProcess: Object.fromEntries(
      names.map((name) => [name, Math.round(slopeOf(liveHeap, [name]))]),
    ),
    rounds: rounds.map(({ clients: n, probes }) => ({
      clients: n,
      liveHeap: holders.reduce((sum, name) => sum + probes[name].collected.heapUsed, 0),
      rssAfterGc: holders.reduce((sum, name) => sum + probes[name].collected.rss, 0),
      settledRss: holders.reduce((sum, name) => sum + probes[name].settled.rss, 0),
    })),
  };
}

const kib = (bytes: number) => (bytes / 1024).toFixed(1);

/** Slope of the least-squares line through (x, y) points. */
function leastSquaresSlope(points: Array<[number, number]>): number {
  const n = points.length;
  const meanX = points.reduce((a, [x]) => a + x, 0) / n;
  const meanY = points.reduce((a, [, y]) => a + y, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const [x, y] of points) {
    covariance += (x - meanX) * (y - meanY);
    variance += (x - meanX) ** 2;
  }
  return covariance / variance;
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const results: Array<{
    target: string;
    latency: Awaited<ReturnType<typeof measureLatency>>;
    throughput: Awaited<ReturnType<typeof measureThroughput>>;
    memory: Awaited<ReturnType<typeof measureIdleMemory>>;
  }> = [];
  const pinning = options.pin ? CpuPinning.pinClient() : null;
  // Before any target starts: its processes load the probe from NODE_OPTIONS.
  const probe = GcProbe.install(join(workspaceRoot, 'tmp/bench/signal-relay-probes'));
  for (const name of options.targets) {
    const target = TARGETS[name]();
    await target.start();
    try {
      pinning?.pinServers(target.serverPids());
      // Memory first, on fresh processes: load grows heaps that shrink later
      // (RSS fell while idle clients were added when it was measured after).
      const memory = await measureIdleMemory(target, options.idle, probe);
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
      ` ${options.idle} idle clients in ${MEMORY_ROUNDS} rounds` +
      ` (KiB per client: the slope over rounds 2–${MEMORY_ROUNDS}, each probed ${ROUND_SETTLE_MS / 1000} s idle,` +
      ` of the socket-holding process's live heap after a full GC; in brackets its RSS after the GC / as it was)` +
      `${pinning ? `; ${pinning.describe()}` : ''}` +
      `; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
  );
  console.log(
    'target                              p50 ms  p90 ms  p99 ms  lost  delivered/s  sustained/s  KiB/idle client (RSS gc/as was)  p50 ratio  p99 ratio  throughput ratio  memory ratio',
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
        `${kib(memory.bytesPerIdleClient)} (${kib(memory.rssAfterGcBytesPerIdleClient)} / ${kib(memory.settledRssBytesPerIdleClient)})`.padStart(
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
  console.log('\nKiB per idle client, live heap after a full GC, by process:');
  for (const { target, memory } of results) {
    const byProcess = Object.entries(memory.bytesPerIdleClientByProcess)
      .map(([name, bytes]) => `${name} ${kib(bytes)}`)
      .join(', ');
    console.log(`  ${target.padEnd(34)} ${byProcess}`);
  }
  console.log(
    '\nsocket-holding process (MB) by idle clients, fresh and after each round: live heap, RSS after a full GC (as it was):',
  );
  for (const { target, memory } of results) {
    const readings = memory.rounds.map(
      ({ clients, liveHeap, rssAfterGc, settledRss }) =>
        `${clients} → ${(liveHeap / 1e6).toFixed(1)}, ${(rssAfterGc / 1e6).toFixed(1)} (${(settledRss / 1e6).toFixed(1)})`,
    );
    console.log(`  ${target.padEnd(34)} ${readings.join('; ')}`);
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
