/**
 * Signal relay benchmark: starts the built presence and gateway as real
 * processes on loopback and measures
 *   1. relay latency (p50/p99) of ICE-candidate signals between pairs of
 *      clients at a steady offered rate, and
 *   2. gateway (and presence) resident memory per connected idle peer.
 *
 * Usage: tools/bench/run.sh signal-relay [--pairs 10] [--rate 20] [--seconds 10] [--idle 2000]
 * Build first: NX_DAEMON=false npx nx run-many -t build -p presence,gateway
 */
import { readFileSync } from 'node:fs';

import { GatewayStack, ServiceProcess, SignalingClient } from '@ephemeral/testing';

interface Options {
  pairs: number;
  /** Signals per second each sender offers. */
  rate: number;
  seconds: number;
  idle: number;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { pairs: 10, rate: 20, seconds: 10, idle: 2000 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '') as keyof Options;
    const value = Number(argv[i + 1]);
    if (!(key in options) || !Number.isFinite(value) || value <= 0) {
      throw new Error(`bad option ${argv[i]} ${argv[i + 1]}`);
    }
    options[key] = value;
  }
  // Bounds: this is a loopback benchmark on a 2-core machine.
  options.pairs = Math.min(options.pairs, 200);
  options.rate = Math.min(options.rate, 45); // stays under the gateway's per-connection limit
  options.seconds = Math.min(options.seconds, 60);
  options.idle = Math.min(options.idle, 5000);
  return options;
}

function rssBytes(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : NaN;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function measureLatency(url: string, options: Options) {
  const pairs = await Promise.all(
    Array.from({ length: options.pairs }, async () => {
      const a = await SignalingClient.connectAndHello(url);
      const b = await SignalingClient.connectAndHello(url);
      return { a, b };
    }),
  );
  const sentAt = new Map<string, bigint>();
  const latenciesMs: number[] = [];
  let received = 0;
  const warmupEnds = process.hrtime.bigint() + 1_000_000_000n;
  for (const { b } of pairs) {
    b.onFrame = (frame) => {
      if (frame.$case !== 'signal') return;
      const payload = frame.value.signal?.payload;
      if (payload?.$case !== 'candidate') return;
      const now = process.hrtime.bigint();
      const start = sentAt.get(payload.value.usernameFragment);
      if (start === undefined) return;
      sentAt.delete(payload.value.usernameFragment);
      received += 1;
      if (start >= warmupEnds) latenciesMs.push(Number(now - start) / 1e6);
    };
  }
  let sent = 0;
  const intervalMs = 1000 / options.rate;
  const ticks = Math.round(options.seconds * options.rate);
  const started = Date.now();
  for (let tick = 0; tick < ticks; tick++) {
    pairs.forEach(({ a, b }, index) => {
      const id = `${index}:${tick}`;
      sentAt.set(id, process.hrtime.bigint());
      a.signal(b.peerId, {
        payload: {
          $case: 'candidate',
          value: {
            candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 54321 typ host',
            sdpMid: '0',
            sdpMLineIndex: 0,
            usernameFragment: id,
          },
        },
      });
      sent += 1;
    });
    const next = started + (tick + 1) * intervalMs;
    await sleep(Math.max(0, next - Date.now()));
  }
  await sleep(1000); // let the last signals arrive
  await Promise.all(pairs.flatMap(({ a, b }) => [a.close(), b.close()]));
  latenciesMs.sort((x, y) => x - y);
  return {
    offeredPerSecond: options.pairs * options.rate,
    sent,
    received,
    lost: sent - received,
    p50Ms: percentile(latenciesMs, 50),
    p90Ms: percentile(latenciesMs, 90),
    p99Ms: percentile(latenciesMs, 99),
    maxMs: latenciesMs[latenciesMs.length - 1],
  };
}

async function measureIdleMemory(
  url: string,
  count: number,
  gateway: ServiceProcess,
  presence: ServiceProcess,
) {
  await sleep(2000);
  const gatewayBefore = rssBytes(gateway.pid);
  const presenceBefore = rssBytes(presence.pid);
  const clients: SignalingClient[] = [];
  // Connect in batches so the handshake rate stays realistic.
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, () => SignalingClient.connectAndHello(url)),
    );
    clients.push(...batch);
  }
  await sleep(3000);
  const gatewayAfter = rssBytes(gateway.pid);
  const presenceAfter = rssBytes(presence.pid);
  await Promise.all(clients.map((client) => client.close()));
  return {
    idlePeers: count,
    gatewayRssMiB: gatewayAfter / 2 ** 20,
    gatewayBytesPerPeer: (gatewayAfter - gatewayBefore) / count,
    presenceBytesPerLease: (presenceAfter - presenceBefore) / count,
  };
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  // info, not debug: the harness waits for the "listening" line, and per-signal
  // debug logging would be measured too.
  const quiet = { LOG_LEVEL: 'info' };
  const stack = await GatewayStack.start({ presenceEnv: quiet, gatewayEnv: quiet });
  const { gateway, presence } = stack;
  const url = stack.wsUrl;
  try {
    const latency = await measureLatency(url, options);
    const memory = await measureIdleMemory(url, options.idle, gateway, presence);
    const result = { mode: 'embedded (in-process bus, memory leases)', options, latency, memory };
    console.log(JSON.stringify(result, null, 2));
    console.log(
      `relay: ${latency.offeredPerSecond}/s offered, p50 ${latency.p50Ms.toFixed(2)} ms, ` +
        `p99 ${latency.p99Ms.toFixed(2)} ms, lost ${latency.lost}; ` +
        `memory: ${(memory.gatewayBytesPerPeer / 1024).toFixed(1)} KiB/idle peer (gateway), ` +
        `${(memory.presenceBytesPerLease / 1024).toFixed(2)} KiB/lease (presence)`,
    );
  } finally {
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
