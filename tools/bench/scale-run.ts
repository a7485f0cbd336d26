/**
 * The 100k run: the distributed mode as real processes on loopback — the
 * local Kafka broker (routed signal bus, SIGNAL_BUS=routed), the local Redis
 * Cluster (3 masters + 3 replicas, REDIS_CLUSTER_NODES), 2 presence replicas
 * and 4 gateways from dist/ — and N WebSocket peers from client worker
 * processes (scale/peer-worker.ts), spread over many 127.x source addresses
 * so that ephemeral ports never run out. Phases, each bounded in time:
 *   1. ramp: peers connect at a bounded rate, at most --in-flight handshakes
 *      per worker (more only piles Registers up behind a starved presence
 *      until they miss their deadline), progress every 5 s;
 *   2. idle: the gateways keep every lease alive; measured: resident memory
 *      per peer per gateway (RSS delta / its peers), presence and Redis
 *      memory per lease, lease renewals/s on the cluster, CPU per component;
 *   3. signals: WebRTC-shaped negotiations (offer, answer, 20 candidates, a
 *      bye) between random peers on different gateways, at ~0.08 signals/s
 *      per peer (docs/operations.md's assumption) for --seconds, at most
 *      --max-signals; measured: p50/p99 and losses (sent by the clients vs
 *      received by the clients), records each gateway consumed from its
 *      partition vs the signals addressed to its peers (its metrics), CPU.
 * Then it stops everything it started (workers, gateways, presence), also on
 * Ctrl-C or an error, deletes its keys from the shared cluster, and prints a
 * table (and writes JSON to tmp/bench/scale-run-<peers>.json). Kafka and the
 * Redis Cluster are shared and left running.
 *
 * Usage: tools/bench/run.sh scale [--peers 100000] [--gateways 4]
 *          [--workers auto] [--ramp-rate 1000] [--peers-per-address 500]
 *          [--seconds 60] [--signal-rate auto] [--max-signals 2000000]
 *          [--idle-seconds 15] [--ramp-seconds 240] [--in-flight 100]
 * Build first: NX_DAEMON=false npx nx run-many -t build -p presence,gateway
 * Limits (checked before it starts, see scale/system-limits.ts): every peer
 * is an open file in a gateway and in a worker (run.sh raises `ulimit -n`
 * to the hard limit); fs.file-max, ip_local_port_range, nf_conntrack_max.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

import {
  DEFAULT_REDIS_URL,
  DistributedStack,
  MetricsSnapshot,
  metricsPortOf,
  workspaceRoot,
} from '@ephemeral/testing';

import { LOOPBACK_BENCHMARK_LIMITS } from './relay-targets/relay-target';
import {
  ensureInfrastructure,
  kafkaPid,
  RedisNodes,
  redisNodePid,
  type RedisNodeStats,
} from './scale/infrastructure';
import { LatencyHistogram } from './scale/latency-histogram';
import { describeCalls, presenceCalls } from './scale/presence-calls';
import { runPeerWorker } from './scale/peer-worker';
import { CpuMeter, loadAverage, rssBytes } from './scale/proc-stats';
import { limitProblems, readSystemLimits } from './scale/system-limits';
import type { FromWorker, ToWorker, WorkerStats } from './scale/worker-messages';

const WORKER_ROLE = 'SCALE_RUN_WORKER';
// Peers one client worker holds at most by default: well inside the 20 000
// open files per process this machine allows, and ~12k sockets keep one
// Node event loop responsive.
const PEERS_PER_WORKER = 12_500;
// docs/operations.md: a share connection is ~25 signals, one per peer every 5 minutes.
const SIGNALS_PER_PEER_PER_SECOND = 0.08;
const SIGNALS_PER_SESSION = 23;
// Two renewal rounds at the default 15 s TTL (renewed every 5 s): every
// lease has been renewed since the ramp, and RSS has settled.
const SETTLE_MS = 10_000;
const DRAIN_TIMEOUT_MS = 15_000;

interface Options {
  peers: number;
  gateways: number;
  workers: number;
  rampRate: number;
  peersPerAddress: number;
  seconds: number;
  signalRate: number;
  maxSignals: number;
  idleSeconds: number;
  rampSeconds: number;
  inFlight: number;
}

function parseOptions(argv: string[]): Options {
  const raw: Record<string, number | 'auto'> = {
    peers: 100_000,
    gateways: 4,
    workers: 'auto',
    'ramp-rate': 1_000,
    'peers-per-address': 500,
    seconds: 60,
    'signal-rate': 'auto',
    'max-signals': 2_000_000,
    'idle-seconds': 15,
    'ramp-seconds': 240,
    'in-flight': 100,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = (argv[i] ?? '').replace(/^--/, '');
    const text = argv[i + 1] ?? '';
    const value = text === 'auto' ? 'auto' : Number(text);
    if (!(key in raw) || (value !== 'auto' && (!Number.isFinite(value) || value <= 0)))
      throw new Error(`bad option ${argv[i]} ${text} (options: ${Object.keys(raw).join(', ')})`);
    raw[key] = value;
  }
  const num = (key: string) => raw[key] as number;
  // Bounds: one machine, loopback, a run of minutes.
  const peers = Math.min(Math.round(num('peers')), 1_000_000);
  const workers =
    raw['workers'] === 'auto'
      ? Math.max(2, Math.ceil(peers / PEERS_PER_WORKER))
      : Math.min(num('workers'), 64);
  const signalRate =
    raw['signal-rate'] === 'auto'
      ? Math.max(50, Math.round(peers * SIGNALS_PER_PEER_PER_SECOND))
      : num('signal-rate');
  return {
    peers,
    gateways: Math.min(Math.round(num('gateways')), 16),
    workers: Math.round(workers),
    rampRate: Math.min(num('ramp-rate'), 20_000),
    peersPerAddress: Math.round(num('peers-per-address')),
    seconds: Math.min(num('seconds'), 300),
    signalRate: Math.min(signalRate, 50_000),
    maxSignals: Math.min(num('max-signals'), 20_000_000),
    idleSeconds: Math.min(num('idle-seconds'), 120),
    rampSeconds: Math.min(num('ramp-seconds'), 900),
    inFlight: Math.min(Math.round(num('in-flight')), 2_000),
  };
}

const sleep = (ms: number) => new Promise((resolveLater) => setTimeout(resolveLater, ms));
const log = (message: string) =>
  console.log(`[scale ${new Date().toISOString().slice(11, 19)}] ${message}`);
const kib = (bytes: number) => (bytes / 1024).toFixed(1);

/**
 * A scrape, again after a second when it fails: a starved process may time
 * its metrics request out (HTTP 408) once; the run's figures should not go
 * with it. Bounded: 5 attempts.
 */
async function retried<T>(scrape: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await scrape();
    } catch (error) {
      if (attempt >= 5) throw error;
      await sleep(1_000);
    }
  }
}

/** A forked client worker and what it last said. */
class Worker {
  readonly child: ChildProcess;
  progress = { connected: 0, failed: 0, inFlight: 0 };
  private readonly waiters: Array<{ type: FromWorker['type']; resolve: (m: FromWorker) => void }> =
    [];

  constructor(index: number) {
    this.child = fork(process.argv[1] as string, [], {
      env: { ...process.env, [WORKER_ROLE]: String(index) },
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (message: FromWorker) => {
      if (message.type === 'progress') this.progress = message;
      const at = this.waiters.findIndex((waiter) => waiter.type === message.type);
      if (at >= 0) this.waiters.splice(at, 1)[0]?.resolve(message);
    });
    this.child.on('exit', (code, signal) => {
      if (!stopping) log(`worker ${index} exited (${code ?? signal})`);
    });
  }

  tell(message: ToWorker): void {
    this.child.send(message);
  }

  next<T extends FromWorker['type']>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<FromWorker, { type: T }>> {
    return new Promise((resolveMessage, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`worker: no ${type} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        type,
        resolve: (message) => {
          clearTimeout(timer);
          resolveMessage(message as Extract<FromWorker, { type: T }>);
        },
      });
    });
  }

  async stats(): Promise<WorkerStats> {
    const reply = this.next('stats', 30_000);
    this.tell({ type: 'report' });
    return reply;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

let stopping = false;

interface Resources {
  stack?: DistributedStack;
  workers: Worker[];
  redis?: RedisNodes;
  prefix?: string;
}

/** Stops what the run started; safe to call twice (Ctrl-C during the clean-up). */
async function tearDown(resources: Resources): Promise<void> {
  if (stopping) return;
  stopping = true;
  log('stopping: client workers, gateways, presence');
  // Killing the workers closes every socket at once (the kernel sends FIN).
  for (const worker of resources.workers) worker.kill();
  await resources.stack?.stop().catch((error: unknown) => log(`stack stop: ${String(error)}`));
  if (resources.redis && resources.prefix) {
    const deleted = await resources.redis.deletePrefix(resources.prefix).catch(() => -1);
    log(`deleted ${deleted} keys of this run from the Redis Cluster`);
  }
  resources.redis?.close();
}

function sumStats(all: WorkerStats[]) {
  const histogram = new LatencyHistogram();
  const errors: Record<string, number> = {};
  const closes: Record<string, number> = {};
  const addressed: number[] = [];
  for (const stats of all) {
    histogram.add(stats.latency);
    for (const [code, count] of Object.entries(stats.errors))
      errors[code] = (errors[code] ?? 0) + count;
    for (const [code, count] of Object.entries(stats.closes))
      closes[code] = (closes[code] ?? 0) + count;
    stats.addressed.forEach((count, g) => (addressed[g] = (addressed[g] ?? 0) + count));
  }
  return {
    sent: all.reduce((s, x) => s + x.sent, 0),
    received: all.reduce((s, x) => s + x.received, 0),
    open: all.reduce((s, x) => s + x.open, 0),
    rssBytes: all.reduce((s, x) => s + x.rssBytes, 0),
    histogram,
    errors,
    closes,
    addressed,
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const limits = readSystemLimits();
  const problems = limitProblems(
    {
      peers: options.peers,
      gateways: options.gateways,
      workers: options.workers,
      peersPerAddress: options.peersPerAddress,
    },
    limits,
  );
  log(
    `${options.peers} peers, ${options.gateways} gateways, ${options.workers} client workers; ` +
      `limits: open files ${limits.openFilesSoft} (hard ${limits.openFilesHard}), fs.file-max ${limits.fileMax}, ` +
      `${limits.portsPerAddress} ports per source address, conntrack ${limits.conntrackInUse ?? '-'}/${limits.conntrackMax ?? 'not loaded'}, ` +
      `${(limits.memAvailableBytes / 2 ** 30).toFixed(1)} GiB available`,
  );
  if (problems.length > 0)
    throw new Error(`this machine cannot hold the run:\n- ${problems.join('\n- ')}`);

  const resources: Resources = { workers: [] };
  const onSignal = (name: string) => {
    log(`${name}: stopping`);
    void tearDown(resources).finally(() => process.exit(130));
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  try {
    await run(options, resources);
  } finally {
    await tearDown(resources);
  }
}

async function run(options: Options, resources: Resources) {
  const runStarted = Date.now();
  log('Kafka and the Redis Cluster (started if not running, left running)');
  const infrastructure = await ensureInfrastructure();
  const redis = new RedisNodes(infrastructure.clusterNodes);
  resources.redis = redis;

  const info = { LOG_LEVEL: 'info' };
  log(`2 presence replicas (Redis Cluster) and ${options.gateways} gateways (routed bus)`);
  const stack = await DistributedStack.start({
    kafkaBrokers: infrastructure.kafkaBrokers,
    redisUrl: DEFAULT_REDIS_URL,
    presenceReplicas: 2,
    gateways: options.gateways,
    presenceEnv: { ...info, REDIS_CLUSTER_NODES: infrastructure.clusterNodes.join(',') },
    gatewayEnv: {
      ...info,
      ...LOOPBACK_BENCHMARK_LIMITS,
      SIGNAL_BUS: 'routed',
      // Each gateway holds up to the whole run's peers' sockets.
      HANDSHAKE_TIMEOUT_MS: '30000',
    },
  });
  resources.stack = stack;
  resources.prefix = stack.redisKeyPrefix;
  for (let g = 0; g < options.gateways; g++) {
    for (let attempt = 0; attempt < 600 && (await stack.readiness(g)) !== 200; attempt++)
      await sleep(100);
    if ((await stack.readiness(g)) !== 200)
      throw new Error(`gateway ${g + 1} not ready within 60 s`);
  }

  const gatewayPids = stack.gateways.map((gateway) => gateway.pid ?? 0);
  const presencePids = stack.presences.map((presence) => presence.pid ?? 0);
  const groups = (): Record<string, number[]> => {
    const named: Record<string, number[]> = {};
    gatewayPids.forEach((pid, g) => (named[`gateway ${g + 1}`] = [pid]));
    presencePids.forEach((pid, p) => (named[`presence ${p + 1}`] = [pid]));
    named['kafka'] = [kafkaPid() ?? 0];
    for (const node of infrastructure.clusterNodes)
      named[`redis ${node.split(':')[1]}`] = [redisNodePid(node) ?? 0];
    named['client workers'] = resources.workers.map((worker) => worker.child.pid ?? 0);
    named['coordinator'] = [process.pid];
    return named;
  };
  const scrapeGateways = () =>
    Promise.all(stack.gateways.map((_, g) => retried(() => stack.scrapeGatewayMetrics(g))));
  const scrapePresences = () =>
    Promise.all(
      stack.presences.map((presence) => {
        const port = metricsPortOf(presence);
        if (port === null) throw new Error('presence logged no metrics port');
        return retried(() => MetricsSnapshot.scrape(port));
      }),
    );
  const renewed = (snapshots: MetricsSnapshot[]) =>
    snapshots.reduce(
      (s, m) => s + m.value('ephemeral_presence_keepalive_results_total', { status: 'renewed' }),
      0,
    );

  await sleep(2_000);
  const baseline = {
    gatewayRss: gatewayPids.map(rssBytes),
    presenceRss: presencePids.map(rssBytes),
    redis: await redis.stats(),
  };
  log(
    `baseline RSS: gateways ${baseline.gatewayRss.map((b) => (b / 2 ** 20).toFixed(0)).join(', ')} MiB`,
  );

  // 1. Ramp.
  const perWorker = Math.ceil(options.peers / options.workers);
  for (let w = 0; w < options.workers; w++) resources.workers.push(new Worker(w));
  const rampCpu = new CpuMeter(groups);
  rampCpu.start();
  const rampLoad = [loadAverage()];
  const rampStarted = performance.now();
  // Bounded: peers not connected by then are reported, not waited for.
  const rampDeadline = Date.now() + options.rampSeconds * 1000;
  const rampMetrics = { gateways: await scrapeGateways(), presences: await scrapePresences() };
  const connected = resources.workers.map((worker) =>
    worker.next('connected', rampDeadline - Date.now() + 60_000),
  );
  resources.workers.forEach((worker, w) => {
    const firstIndex = w * perWorker;
    worker.tell({
      type: 'connect',
      firstIndex,
      count: Math.max(0, Math.min(perWorker, options.peers - firstIndex)),
      gatewayUrls: stack.gatewayPorts.map((_, g) => stack.wsUrl(g)),
      peersPerAddress: options.peersPerAddress,
      ratePerSecond: options.rampRate / options.workers,
      maxInFlight: options.inFlight,
      deadlineUnixMs: rampDeadline,
    });
  });
  const progress = setInterval(() => {
    if (stopping) return;
    const sum = resources.workers.reduce(
      (s, w) => ({
        connected: s.connected + w.progress.connected,
        failed: s.failed + w.progress.failed,
        inFlight: s.inFlight + w.progress.inFlight,
      }),
      { connected: 0, failed: 0, inFlight: 0 },
    );
    const seconds = (performance.now() - rampStarted) / 1000;
    log(
      `ramp: ${sum.connected}/${options.peers} connected (${(sum.connected / seconds).toFixed(0)}/s), ` +
        `${sum.failed} failed, ${sum.inFlight} in flight; gateways ${gatewayPids.map((pid) => (rssBytes(pid) / 2 ** 20).toFixed(0)).join('/')} MiB; load ${loadAverage()}`,
    );
  }, 5_000);
  const ramps = await Promise.all(connected).finally(() => clearInterval(progress));
  const rampSeconds = (performance.now() - rampStarted) / 1000;
  const cpuRamp = rampCpu.stop();
  const rampCalls = presenceCalls(
    rampMetrics.gateways,
    await scrapeGateways(),
    rampMetrics.presences,
    await scrapePresences(),
  );
  rampLoad.push(loadAverage());
  const ids = ramps.flatMap((ramp) => ramp.ids);
  const gatewaysOf = new Uint8Array(ramps.flatMap((ramp) => [...ramp.gateways]));
  const failures: Record<string, number> = {};
  const turnedAway: Record<string, number> = {};
  for (const ramp of ramps) {
    for (const [why, count] of Object.entries(ramp.failures))
      failures[why] = (failures[why] ?? 0) + count;
    for (const [why, count] of Object.entries(ramp.turnedAway))
      turnedAway[why] = (turnedAway[why] ?? 0) + count;
  }
  const peersOn = Array.from(
    { length: options.gateways },
    (_, g) => gatewaysOf.filter((x) => x === g).length,
  );
  log(
    `ramp done: ${ids.length} connected in ${rampSeconds.toFixed(0)} s; failures ${JSON.stringify(failures)}; attempts turned away and retried ${JSON.stringify(turnedAway)}`,
  );
  if (ids.length === 0) throw new Error('no peer connected');

  // 2. Idle: leases kept alive, nothing else.
  log(`idle: settling ${SETTLE_MS / 1000} s, then measuring for ${options.idleSeconds} s`);
  await sleep(SETTLE_MS);
  const idleCpu = new CpuMeter(groups);
  const presenceBefore = await scrapePresences();
  const idleGatewaysBefore = await scrapeGateways();
  const redisBefore = await redis.stats();
  idleCpu.start();
  const idleLoad = [loadAverage()];
  const idleStarted = performance.now();
  await sleep(options.idleSeconds * 1000);
  const idleSeconds = (performance.now() - idleStarted) / 1000;
  const cpuIdle = idleCpu.stop();
  idleLoad.push(loadAverage());
  const presenceAfter = await scrapePresences();
  const idleCalls = presenceCalls(
    idleGatewaysBefore,
    await scrapeGateways(),
    presenceBefore,
    presenceAfter,
  );
  const redisAfter = await redis.stats();
  const renewalsPerSecond = (renewed(presenceAfter) - renewed(presenceBefore)) / idleSeconds;
  const gatewayRssIdle = gatewayPids.map(rssBytes);
  const presenceRssIdle = presencePids.map(rssBytes);
  const leasesHeld = Math.max(
    ...presenceAfter.map((m) => m.value('ephemeral_presence_leases_held')),
  );
  const clientIdle = sumStats(await Promise.all(resources.workers.map((worker) => worker.stats())));
  const redisCommandsPerSecond = (before: RedisNodeStats[], after: RedisNodeStats[]) =>
    after.map((node, i) => ({
      node: node.node,
      role: node.role,
      perSecond: Math.round(
        (node.commandsProcessed - (before[i]?.commandsProcessed ?? 0)) / idleSeconds,
      ),
    }));
  const redisIdle = redisCommandsPerSecond(redisBefore, redisAfter);
  const redisMemoryDelta =
    redisAfter.filter((n) => n.role === 'master').reduce((s, n) => s + n.usedMemoryBytes, 0) -
    baseline.redis.filter((n) => n.role === 'master').reduce((s, n) => s + n.usedMemoryBytes, 0);

  // 3. Signals between random peers on different gateways.
  for (const worker of resources.workers)
    worker.tell({ type: 'directory', ids, gateways: gatewaysOf });
  const sessionsPerSecond = options.signalRate / SIGNALS_PER_SESSION;
  log(
    `signals: ~${options.signalRate}/s offered (${sessionsPerSecond.toFixed(0)} negotiations/s) for ${options.seconds} s, at most ${options.maxSignals}`,
  );
  const gatewaysBefore = await scrapeGateways();
  const beforeSignals = sumStats(
    await Promise.all(resources.workers.map((worker) => worker.stats())),
  );
  const presenceSignalBefore = await scrapePresences();
  const signalCpu = new CpuMeter(groups);
  signalCpu.start();
  const signalLoad = [loadAverage()];
  const signalStarted = performance.now();
  const done = resources.workers.map((worker) =>
    worker.next('signalDone', options.seconds * 1000 + 60_000),
  );
  for (const worker of resources.workers)
    worker.tell({
      type: 'signal',
      sessionsPerSecond: sessionsPerSecond / options.workers,
      seconds: options.seconds,
      maxSignals: Math.floor(options.maxSignals / options.workers),
    });
  const signalProgress = setInterval(() => log(`signals: running, load ${loadAverage()}`), 10_000);
  const sessions = (await Promise.all(done).finally(() => clearInterval(signalProgress))).reduce(
    (s, d) => s + d.sessions,
    0,
  );
  const sendingSeconds = (performance.now() - signalStarted) / 1000;
  // Drain: byes go out 2 s after their offers; wait until everything sent arrived, bounded.
  let after = sumStats(await Promise.all(resources.workers.map((worker) => worker.stats())));
  const drainUntil = Date.now() + DRAIN_TIMEOUT_MS;
  let lastSent = -1;
  while (Date.now() < drainUntil && (after.received < after.sent || after.sent !== lastSent)) {
    lastSent = after.sent;
    await sleep(500);
    after = sumStats(await Promise.all(resources.workers.map((worker) => worker.stats())));
  }
  const cpuSignals = signalCpu.stop();
  signalLoad.push(loadAverage());
  const signalSeconds = (performance.now() - signalStarted) / 1000;
  const gatewaysAfter = await scrapeGateways();
  const presenceSignalAfter = await scrapePresences();
  const signalRenewalsPerSecond =
    (renewed(presenceSignalAfter) - renewed(presenceSignalBefore)) / signalSeconds;
  const signalCalls = presenceCalls(
    gatewaysBefore,
    gatewaysAfter,
    presenceSignalBefore,
    presenceSignalAfter,
  );
  const sent = after.sent - beforeSignals.sent;
  const errors: Record<string, number> = {};
  for (const [code, count] of Object.entries(after.errors))
    if (count - (beforeSignals.errors[code] ?? 0) > 0)
      errors[code] = count - (beforeSignals.errors[code] ?? 0);
  // A signal answered with an Error frame was not delivered, but not silently lost either.
  const answered = Object.values(errors).reduce((s, n) => s + n, 0);
  const received = after.received - beforeSignals.received;
  const consumed = gatewaysAfter.map((m, g) =>
    m.delta(gatewaysBefore[g] as MetricsSnapshot, 'ephemeral_gateway_bus_records_consumed_total', {
      bus: 'routed',
    }),
  );
  const delivered = gatewaysAfter.map((m, g) =>
    m.delta(gatewaysBefore[g] as MetricsSnapshot, 'ephemeral_gateway_signals_delivered_total'),
  );
  const addressed = after.addressed.map((count, g) => count - (beforeSignals.addressed[g] ?? 0));
  const stillConnected = gatewaysAfter.map((m) => m.value('ephemeral_gateway_peers_connected'));

  // Report.
  const result = {
    options,
    // The 1-minute load average at the start and end of each phase: the
    // machine is shared, and what else runs shows in every figure.
    machine: {
      cores: cpus().length,
      load: { ramp: rampLoad, idle: idleLoad, signals: signalLoad },
    },
    ramp: {
      connected: ids.length,
      failures,
      turnedAway,
      seconds: Math.round(rampSeconds),
      perSecond: Math.round(ids.length / rampSeconds),
      cpuPercent: cpuRamp,
      presenceCalls: rampCalls,
    },
    idle: {
      peersPerGateway: peersOn,
      gatewayBytesPerPeer: gatewayRssIdle.map((rss, g) =>
        Math.round((rss - (baseline.gatewayRss[g] ?? 0)) / Math.max(1, peersOn[g] ?? 0)),
      ),
      gatewayRssBytes: gatewayRssIdle,
      presenceBytesPerLease: Math.round(
        (presenceRssIdle.reduce((s, x) => s + x, 0) -
          baseline.presenceRss.reduce((s, x) => s + x, 0)) /
          ids.length,
      ),
      redisMasterBytesPerLease: Math.round(redisMemoryDelta / ids.length),
      clientWorkerBytesPerPeer: Math.round(clientIdle.rssBytes / ids.length),
      leasesHeld,
      leaseRenewalsPerSecond: Math.round(renewalsPerSecond),
      redisCommandsPerSecond: redisIdle,
      cpuPercent: cpuIdle,
      presenceCalls: idleCalls,
    },
    signals: {
      sessions,
      sent,
      received,
      answeredWithError: answered,
      lostSilently: sent - received - answered,
      errors,
      sentPerSecond: Math.round(sent / sendingSeconds),
      p50Ms: after.histogram.percentile(50),
      p90Ms: after.histogram.percentile(90),
      p99Ms: after.histogram.percentile(99),
      p999Ms: after.histogram.percentile(99.9),
      addressed,
      consumed,
      delivered,
      leaseRenewalsPerSecond: Math.round(signalRenewalsPerSecond),
      cpuPercent: cpuSignals,
      presenceCalls: signalCalls,
    },
    end: {
      peersConnected: stillConnected,
      clientSocketsOpen: after.open,
      closedByServer: after.closes,
    },
    seconds: Math.round((Date.now() - runStarted) / 1000),
  };
  const out = join(workspaceRoot, `tmp/bench/scale-run-${options.peers}.json`);
  mkdirSync(join(workspaceRoot, 'tmp/bench'), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2));
  printTable(result);
  log(`JSON: ${out}`);
  return result;
}

type ScaleResult = Awaited<ReturnType<typeof run>>;

function printTable(r: ScaleResult): void {
  const { ramp, idle, signals, end } = r;
  const load = Object.entries(r.machine.load)
    .map(([phase, [start, finish]]) => `${phase} ${start}→${finish}`)
    .join(', ');
  console.log(`\nmachine: ${r.machine.cores} cores, load average ${load}`);
  console.log(
    `\nscale run: ${r.options.peers} peers asked, ${ramp.connected} connected in ${ramp.seconds} s (${ramp.perSecond}/s); failures ${JSON.stringify(ramp.failures)}; attempts turned away and retried ${JSON.stringify(ramp.turnedAway)}`,
  );
  console.log(
    `leases held ${idle.leasesHeld} (peers + gateway slots); renewals on the cluster ${idle.leaseRenewalsPerSecond}/s idle, ${signals.leaseRenewalsPerSecond}/s during signals`,
  );
  console.log(
    `presence ${kib(idle.presenceBytesPerLease)} KiB RSS per lease (both replicas); Redis masters ${idle.redisMasterBytesPerLease} B per lease; client workers ${kib(idle.clientWorkerBytesPerPeer)} KiB per peer (with their baseline)`,
  );
  console.log(
    `signals: ${signals.sessions} negotiations, ${signals.sent} sent (${signals.sentPerSecond}/s), ${signals.received} received, ${signals.answeredWithError} answered with an error ${JSON.stringify(signals.errors)}, ${signals.lostSilently} lost silently (not arrived ${DRAIN_TIMEOUT_MS / 1000} s after the end)`,
  );
  console.log(
    `latency p50 ${signals.p50Ms.toFixed(1)} ms, p99 ${signals.p99Ms.toFixed(1)} ms, p99.9 ${signals.p999Ms.toFixed(1)} ms`,
  );
  console.log(
    '\ngateway  peers  KiB/peer  addressed  consumed  consumed/addressed  delivered  connected at end',
  );
  idle.peersPerGateway.forEach((peers, g) =>
    console.log(
      `${String(g + 1).padStart(7)} ${String(peers).padStart(6)} ${kib(idle.gatewayBytesPerPeer[g] ?? NaN).padStart(9)} ${String(signals.addressed[g] ?? 0).padStart(10)} ${String(signals.consumed[g] ?? 0).padStart(9)} ${((signals.consumed[g] ?? 0) / Math.max(1, signals.addressed[g] ?? 0)).toFixed(3).padStart(19)} ${String(signals.delivered[g] ?? 0).padStart(10)} ${String(end.peersConnected[g] ?? 0).padStart(17)}`,
    ),
  );
  console.log(
    `client sockets open at end ${end.clientSocketsOpen}; closed by a server ${JSON.stringify(end.closedByServer)}`,
  );
  console.log('\nCPU, % of one core   ramp   idle  signals');
  for (const name of Object.keys(idle.cpuPercent))
    console.log(
      `${name.padEnd(20)} ${String(ramp.cpuPercent[name] ?? '').padStart(6)} ${String(idle.cpuPercent[name]).padStart(6)} ${String(signals.cpuPercent[name] ?? '').padStart(8)}`,
    );
  for (const [phase, calls] of [
    ['ramp', ramp.presenceCalls],
    ['idle', idle.presenceCalls],
    ['signals', signals.presenceCalls],
  ] as const) {
    console.log(`\npresence calls, ${phase}:`);
    for (const line of describeCalls(calls)) console.log(`  ${line}`);
  }
  console.log('\nRedis node          role     commands/s (idle)');
  for (const node of idle.redisCommandsPerSecond)
    console.log(
      `${node.node.padEnd(19)} ${node.role.padEnd(8)} ${String(node.perSecond).padStart(8)}`,
    );
}

if (process.env[WORKER_ROLE] !== undefined) {
  runPeerWorker();
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
