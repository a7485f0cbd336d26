/**
 * Where a gateway's bytes go per connected idle peer. Starts presence and
 * one gateway from dist/ (in-process bus, the signal-relay benchmark's
 * settings), takes a V8 heap snapshot of the gateway with no peers (after a
 * warm-up round of connections), connects `--peers` idle clients (each
 * welcomed, its lease held and kept alive for at least one renewal round),
 * takes a second snapshot, and prints the difference per peer, by
 * constructor (shallow sizes: what the objects of that kind hold
 * themselves; the rows add up to the heap's growth), with the resident
 * memory growth of the gateway and presence next to it.
 *
 * Before the second snapshot, a probe loaded into the measured process
 * (`--require`, the same for the gateway and peerjs-server) reads its
 * memory (process.memoryUsage, V8 heap spaces), runs a full garbage
 * collection, and reads it again 2 s later: what the peers cost alive,
 * against what an idle process still holds of their handshakes' garbage,
 * and the resident memory outside V8's heap (native: sockets, buffers,
 * malloc) per peer (ADR 0032).
 *
 * Usage: tools/bench/run.sh gateway-heap [--peers 10000] [--top 30] [--peerjs 1]
 *          [--idle-seconds 6]
 * (--peerjs 1: then peerjs-server the same way, as the reference;
 * --idle-seconds: how long the peers stay idle before the readings).
 * Snapshots are written to tmp/bench/gateway-heap/ (hundreds of MB at 10k
 * peers; deleted after reading unless --keep 1).
 * Build first: NX_DAEMON=false npx nx run-many -t build -p presence,gateway
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { GatewayStack, MetricsSnapshot, SignalingClient, workspaceRoot } from '@ephemeral/testing';

import { PeerJsTarget } from './relay-targets/peerjs-target';
import { LOOPBACK_BENCHMARK_LIMITS } from './relay-targets/relay-target';

interface Options {
  peers: number;
  top: number;
  keep: boolean;
  /** Also measure peerjs-server the same way, after the gateway. */
  peerjs: boolean;
  /** Idle time between the last connect and the readings. */
  idleSeconds: number;
}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    peers: 10_000,
    top: 30,
    keep: false,
    peerjs: false,
    idleSeconds: 6,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    const value = Number(argv[i + 1]);
    if (
      !['peers', 'top', 'keep', 'peerjs', 'idle-seconds'].includes(key) ||
      !Number.isFinite(value) ||
      value < 0
    )
      throw new Error(`bad option ${argv[i]} ${argv[i + 1] ?? ''}`);
    if (key === 'keep' || key === 'peerjs') options[key] = value > 0;
    else if (key === 'idle-seconds') options.idleSeconds = value;
    else options[key as 'peers' | 'top'] = value;
  }
  // One client process, one source address: stay well inside the
  // ephemeral port range and a 20k file-descriptor limit.
  options.peers = Math.max(1, Math.min(options.peers, 15_000));
  // At least one lease renewal round (a third of the 15 s TTL), at most 2 min.
  options.idleSeconds = Math.max(6, Math.min(options.idleSeconds, 120));
  return options;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

/** The V8 heap snapshot format's parts this tool reads. */
interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Shallow bytes and object count per constructor (or kind of thing V8 groups). */
type Summary = Map<string, { bytes: number; count: number }>;

function groupOf(type: string, name: string): string {
  switch (type) {
    case 'object':
    case 'native':
      return name;
    case 'closure':
      return `closure ${name || '(anonymous)'}`;
    case 'string':
    case 'concatenated string':
    case 'sliced string':
      return '(string)';
    case 'array':
    case 'hidden':
    case 'object shape':
      return `(${type}) ${name}`;
    default:
      return `(${type})`;
  }
}

function summarize(path: string): Summary {
  const snapshot = JSON.parse(readFileSync(path, 'utf8')) as HeapSnapshot;
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const summary: Summary = new Map();
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const group = groupOf(
      types[snapshot.nodes[i + typeAt]],
      snapshot.strings[snapshot.nodes[i + nameAt]],
    );
    const row = summary.get(group) ?? { bytes: 0, count: 0 };
    row.bytes += snapshot.nodes[i + sizeAt];
    row.count += 1;
    summary.set(group, row);
  }
  return summary;
}

/** Asks the gateway for a snapshot (SIGUSR2) and waits until the file is complete. */
async function takeSnapshot(pid: number, dir: string): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    await sleep(500);
    const name = readdirSync(dir).find(
      (file) => !before.has(file) && file.endsWith('.heapsnapshot'),
    );
    if (!name) continue;
    const path = join(dir, name);
    // Written synchronously by the gateway's main thread: complete once the
    // size stops changing and the JSON closes.
    const size = statSync(path).size;
    await sleep(1_000);
    if (statSync(path).size !== size || size === 0) continue;
    const tail = readFileSync(path, 'utf8').trimEnd();
    if (tail.endsWith('}')) return path;
  }
  throw new Error('the gateway wrote no heap snapshot within 3 minutes');
}

/**
 * Loaded into the measured process with `--require`: on SIGWINCH it writes
 * its memory now, then runs a full collection and writes it again 2 s
 * later (freed pages are given back by a background thread), to
 * `probe-<pid>-<n>.json` in the diagnostic folder. `gc` comes from
 * --expose-gc set at run time, so the process's own flags stay as they are.
 */
const PROBE_SOURCE = `'use strict';
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const dir = process.env.HEAP_PROBE_DIR;
let n = 0;
// Sampled allocations (every ~8 KiB allocated, counting objects that died
// young too), by function and by package: where the young generation's
// allocations come from.
const inspector = require('node:inspector');
const session = new inspector.Session();
session.connect();
const startSampling = () =>
  session.post('HeapProfiler.startSampling', {
    samplingInterval: 8192,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
startSampling();
function allocations(done) {
  session.post('HeapProfiler.stopSampling', (error, result) => {
    startSampling();
    const bySite = new Map();
    const byPackage = new Map();
    const add = (map, key, bytes) => map.set(key, (map.get(key) || 0) + bytes);
    const walk = (node, pkg) => {
      const frame = node.callFrame;
      const url = frame.url || '';
      const match = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(url);
      const here = match
        ? match[1]
        : url.includes('/libs/')
          ? 'our libs'
          : url.includes('/dist/apps/')
            ? 'our app'
            : url.startsWith('node:')
              ? pkg && pkg !== 'node' && !pkg.endsWith(' (node)')
                ? pkg + ' (node)'
                : pkg || 'node'
              : pkg;
      const site = (frame.functionName || '(anonymous)') + ' ' + url.replace(/.*\\/(node_modules|dist)\\//, '') + ':' + (frame.lineNumber + 1);
      add(bySite, site, node.selfSize);
      add(byPackage, here || '(other)', node.selfSize);
      for (const child of node.children) walk(child, here);
    };
    if (!error) walk(result.profile.head, '');
    const top = (map) => [...map].sort((a, b) => b[1] - a[1]).slice(0, 25);
    done({ sites: top(bySite), packages: top(byPackage) });
  });
}
// Every collection since the last reading: what scavenges promoted into the
// old generation, what full collections freed there.
let profiler = new v8.GCProfiler();
profiler.start();
function gcs() {
  const data = profiler.stop();
  profiler = new v8.GCProfiler();
  profiler.start();
  const old = (stats) => {
    let used = 0;
    for (const s of stats.heapSpaceStatistics)
      if (s.spaceName === 'old_space' || s.spaceName === 'large_object_space') used += s.spaceUsedSize;
    return used;
  };
  const young = (stats) => {
    for (const s of stats.heapSpaceStatistics) if (s.spaceName === 'new_space') return s.spaceUsedSize;
    return 0;
  };
  const out = { scavenges: 0, promoted: 0, fullGcs: 0, freedByFull: 0, youngAllocated: 0 };
  let youngLeft = 0;
  for (const s of data.statistics) {
    const delta = old(s.afterGC) - old(s.beforeGC);
    // Young-generation allocation between collections: what filled it since the last one left.
    out.youngAllocated += Math.max(0, young(s.beforeGC) - youngLeft);
    youngLeft = young(s.afterGC);
    if (s.gcType === 'Scavenge') {
      out.scavenges += 1;
      out.promoted += Math.max(0, delta);
    } else if (s.gcType === 'MarkSweepCompact') {
      out.fullGcs += 1;
      out.freedByFull += Math.max(0, -delta);
    }
  }
  return out;
}
function reading() {
  const spaces = {};
  for (const s of v8.getHeapSpaceStatistics())
    spaces[s.space_name] = { committed: s.space_size, used: s.space_used_size };
  return { ...process.memoryUsage(), spaces };
}
process.on('SIGWINCH', () => allocations((allocated) => {
  const since = gcs();
  const before = reading();
  gc();
  setTimeout(() => {
    const after = reading();
    fs.writeFileSync(path.join(dir, 'probe-' + process.pid + '-' + n++ + '.json'), JSON.stringify({ since, allocated, before, after }));
  }, 2000);
}));
`;

/** Collections between two probes (see PROBE_SOURCE). */
interface ProbeGcs {
  scavenges: number;
  /** Old-generation growth across scavenges: what they promoted. */
  promoted: number;
  fullGcs: number;
  /** Old-generation bytes full collections found dead. */
  freedByFull: number;
  /** Allocated in the young generation (approximately: what each collection found there). */
  youngAllocated: number;
}

interface Probe {
  since: ProbeGcs;
  /** Sampled allocation bytes since the last probe, top sites and packages. */
  allocated: { sites: Array<[string, number]>; packages: Array<[string, number]> };
  before: ProbeReading;
  after: ProbeReading;
}

/** One probe reading (see PROBE_SOURCE). */
interface ProbeReading {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  spaces: Record<string, { committed: number; used: number }>;
}

/** Asks the probe in `pid` for a reading (SIGWINCH) and waits for its file. */
async function probe(pid: number, dir: string): Promise<Probe> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGWINCH');
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    await sleep(250);
    const name = readdirSync(dir).find(
      (file) => !before.has(file) && file.startsWith(`probe-${pid}-`),
    );
    if (name) return JSON.parse(readFileSync(join(dir, name), 'utf8'));
  }
  throw new Error(`process ${pid} wrote no memory probe within a minute`);
}

/**
 * KiB per peer, from the empty process's probe to the loaded one's: before
 * and after a full collection, resident memory split into V8's heap
 * (committed), external memory (ArrayBuffers and other memory V8 was told
 * of) and the rest (native: sockets, libuv and malloc, code, stacks).
 */
function probeGrowth(empty: Probe, full: Probe, peers: number): string {
  const kib = (bytes: number) => (bytes / peers / 1024).toFixed(2);
  const part = (a: ProbeReading, b: ProbeReading) => {
    const heap = b.heapTotal - a.heapTotal;
    const external = b.external - a.external;
    const rss = b.rss - a.rss;
    const old = (r: ProbeReading) => r.spaces['old_space'] ?? { committed: 0, used: 0 };
    const young = (r: ProbeReading) => r.spaces['new_space'] ?? { committed: 0, used: 0 };
    return (
      `RSS ${kib(rss)} = heap committed ${kib(heap)} (used ${kib(b.heapUsed - a.heapUsed)}; ` +
      `old ${kib(old(b).committed - old(a).committed)}/${kib(old(b).used - old(a).used)}, ` +
      `new ${kib(young(b).committed - young(a).committed)}/${kib(young(b).used - young(a).used)}) ` +
      `+ external ${kib(external)} (ArrayBuffers ${kib(b.arrayBuffers - a.arrayBuffers)}) ` +
      `+ native rest ${kib(rss - heap - external)}`
    );
  };
  const gcs = full.since;
  return (
    `probe, while connecting and idle: ~${kib(gcs.youngAllocated)} KiB/peer allocated young; ` +
    `${gcs.scavenges} scavenges promoted ${kib(gcs.promoted)} KiB/peer ` +
    `into the old generation; ${gcs.fullGcs} full collections (2 forced before connecting: snapshot, probe) freed ${kib(gcs.freedByFull)} KiB/peer there\n` +
    `probe, KiB/peer, as idle: ${part(empty.before, full.before)}\n` +
    `probe, KiB/peer, after a full GC (both readings): ${part(empty.after, full.after)}`
  );
}

interface Target {
  name: string;
  /** The process to snapshot, and every server process whose RSS counts. */
  snapshotPid: number;
  pids: Record<string, number>;
  connect(): Promise<{ close(): Promise<unknown> }>;
  /** The process's own /metrics, when it has one: V8 heap spaces and external memory. */
  metrics?: () => Promise<MetricsSnapshot>;
}

const HEAP_SPACES = ['new', 'old', 'code', 'large_object'];

/** Bytes per peer of each V8 heap space (committed, used) and external memory, from prom-client's defaults. */
function memoryGrowth(a: MetricsSnapshot, b: MetricsSnapshot, peers: number): string {
  const kib = (name: string, labels: Record<string, string> = {}) =>
    (b.delta(a, name, labels) / peers / 1024).toFixed(2);
  const spaces = HEAP_SPACES.map(
    (space) =>
      `${space} ${kib('nodejs_heap_space_size_total_bytes', { space })}/${kib('nodejs_heap_space_size_used_bytes', { space })}`,
  );
  return (
    `KiB/peer committed/used: heap ${kib('nodejs_heap_size_total_bytes')}/${kib('nodejs_heap_size_used_bytes')} ` +
    `(${spaces.join(', ')}); external ${kib('nodejs_external_memory_bytes')}; ` +
    `RSS ${kib('process_resident_memory_bytes')}`
  );
}

async function connectIdle(target: Target, count: number) {
  const clients: Array<{ close(): Promise<unknown> }> = [];
  // Batches of 50, as the signal-relay benchmark connects its idle clients.
  for (let i = 0; i < count; i += 50) {
    clients.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(50, count - i) }, () => target.connect()),
      )),
    );
  }
  return clients;
}

async function closeAll(clients: Array<{ close(): Promise<unknown> }>): Promise<void> {
  for (let i = 0; i < clients.length; i += 200)
    await Promise.all(clients.slice(i, i + 200).map((client) => client.close()));
}

/** Heap growth per idle peer by constructor, and RSS growth per process. */
async function measure(target: Target, options: Options, dir: string) {
  // Warm-up: first connections compile code and create shared objects.
  await closeAll(await connectIdle(target, 200));
  await sleep(2_000);
  const empty = summarize(await takeSnapshot(target.snapshotPid, dir));
  // After the first snapshot: writing one leaves malloc'd memory behind,
  // which must be in both readings, not only in the second.
  const emptyProbe = await probe(target.snapshotPid, dir);
  const metricsBefore = await target.metrics?.();
  const rss = (pid: number) => rssBytes(pid);
  const before = Object.fromEntries(Object.entries(target.pids).map(([n, pid]) => [n, rss(pid)]));
  const clients = await connectIdle(target, options.peers);
  // At least one lease renewal round (a third of the 15 s TTL).
  await sleep(options.idleSeconds * 1000);
  const rssPerPeer = Object.fromEntries(
    Object.entries(target.pids).map(([n, pid]) => [
      n,
      (rss(pid) - before[n]) / options.peers / 1024,
    ]),
  );
  const metricsAfter = await target.metrics?.();
  const fullProbe = await probe(target.snapshotPid, dir);
  const full = summarize(await takeSnapshot(target.snapshotPid, dir));
  await closeAll(clients);
  const rows = [...new Set([...empty.keys(), ...full.keys()])].map((group) => {
    const a = empty.get(group) ?? { bytes: 0, count: 0 };
    const b = full.get(group) ?? { bytes: 0, count: 0 };
    return {
      group,
      bytesPerPeer: (b.bytes - a.bytes) / options.peers,
      countPerPeer: (b.count - a.count) / options.peers,
    };
  });
  rows.sort((x, y) => y.bytesPerPeer - x.bytesPerPeer);
  const heapPerPeer = rows.reduce((sum, row) => sum + row.bytesPerPeer, 0);
  console.log(
    `\n${target.name}: ${options.peers} idle peers, load average ${loadAverage()}; heap +${heapPerPeer.toFixed(0)} B/peer; RSS ` +
      Object.entries(rssPerPeer)
        .map(([n, kib]) => `${n} +${kib.toFixed(1)} KiB/peer`)
        .join(', '),
  );
  if (metricsBefore && metricsAfter)
    console.log(memoryGrowth(metricsBefore, metricsAfter, options.peers));
  console.log(probeGrowth(emptyProbe, fullProbe, options.peers));
  const perPeer = ([name, bytes]: [string, number]) =>
    `${(bytes / options.peers / 1024).toFixed(2)} ${name}`;
  console.log(
    `allocated while connecting and idle, KiB/peer by package: ${fullProbe.allocated.packages.slice(0, 10).map(perPeer).join('; ')}`,
  );
  console.log('allocated, KiB/peer, by function:');
  for (const site of fullProbe.allocated.sites.slice(0, 20)) console.log(`  ${perPeer(site)}`);
  console.log('| constructor | bytes/peer | objects/peer |');
  console.log('| --- | ---: | ---: |');
  for (const row of rows.slice(0, options.top))
    console.log(
      `| ${row.group.replace(/\|/g, '\\|').slice(0, 60)} | ${row.bytesPerPeer.toFixed(0)} | ${row.countPerPeer.toFixed(2)} |`,
    );
  const rest = rows.slice(options.top).reduce((sum, row) => sum + row.bytesPerPeer, 0);
  console.log(`| (all others) | ${rest.toFixed(0)} | |`);
}

function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const dir = join(workspaceRoot, 'tmp/bench/gateway-heap');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const probePath = join(dir, 'memory-probe.cjs');
  writeFileSync(probePath, PROBE_SOURCE);
  process.env['HEAP_PROBE_DIR'] = dir;
  const snapshotOnSignal = `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir} --require=${probePath}`;
  try {
    const stack = await GatewayStack.start({
      presenceEnv: { LOG_LEVEL: 'info' },
      gatewayEnv: {
        LOG_LEVEL: 'info',
        ...LOOPBACK_BENCHMARK_LIMITS,
        NODE_OPTIONS: snapshotOnSignal,
      },
    });
    try {
      await measure(
        {
          name: 'gateway (embedded, leases kept alive)',
          snapshotPid: stack.gateway.pid ?? 0,
          pids: { gateway: stack.gateway.pid ?? 0, presence: stack.presence.pid ?? 0 },
          connect: () => SignalingClient.connectAndHello(stack.wsUrl),
          metrics: () => stack.scrapeGatewayMetrics(),
        },
        options,
        dir,
      );
    } finally {
      await stack.stop();
    }
    if (options.peerjs) {
      // PeerJsTarget starts its server with this process's environment.
      process.env['NODE_OPTIONS'] = snapshotOnSignal;
      const peerjs = new PeerJsTarget();
      await peerjs.start();
      delete process.env['NODE_OPTIONS'];
      try {
        const pid = peerjs.serverPids()['peerjs'];
        await measure(
          {
            name: peerjs.name,
            snapshotPid: pid,
            pids: { peerjs: pid },
            connect: () => peerjs.connect(),
          },
          options,
          dir,
        );
      } finally {
        await peerjs.stop();
      }
    }
  } finally {
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
