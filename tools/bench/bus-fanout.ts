/**
 * Bus fan-out benchmark: the same signal traffic through 4 gateways, once
 * with the single-topic Kafka bus (SIGNAL_BUS=kafka: every gateway reads
 * every record) and once with the routed bus (SIGNAL_BUS=routed: each reads
 * its own partition slot), in one run. Per gateway it reports the records
 * addressed to its peers, the records it consumed
 * (gateway_bus_records_consumed_total) and their ratio, and the signals
 * delivered; bounded in count and time.
 *
 * Usage: tools/bench/run.sh bus-fanout [--gateways 4] [--peers 5] [--signals 2000]
 * Needs tools/kafka/kafka.sh and tools/redis/redis.sh running, and a build:
 *   NX_DAEMON=false npx nx run-many -t build -p presence,gateway
 */
import {
  DEFAULT_KAFKA_BROKERS,
  DEFAULT_REDIS_URL,
  DistributedStack,
  type SignalingClient,
  signals,
} from '@ephemeral/testing';

interface Options {
  gateways: number;
  peers: number;
  signals: number;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { gateways: 4, peers: 5, signals: 2_000 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, '') as keyof Options;
    const value = Number(argv[i + 1]);
    if (!(key in options) || !Number.isInteger(value) || value < 1)
      throw new Error(`usage: bus-fanout [--gateways n] [--peers n] [--signals n]; bad ${argv[i]}`);
    options[key] = value;
  }
  options.gateways = Math.min(options.gateways, 8);
  options.signals = Math.min(options.signals, 50_000);
  return options;
}

const CONSUMED = 'ephemeral_gateway_bus_records_consumed_total';

async function runBus(bus: 'kafka' | 'routed', options: Options) {
  const stack = await DistributedStack.start({
    kafkaBrokers: DEFAULT_KAFKA_BROKERS,
    redisUrl: DEFAULT_REDIS_URL,
    gateways: options.gateways,
    gatewayEnv: {
      SIGNAL_BUS: bus,
      MAX_SIGNALS_PER_TARGET_PER_SECOND: '100000',
      MAX_SIGNALS_PER_TARGET_BURST: '100000',
      MAX_MESSAGES_PER_SECOND: '100000',
      MAX_MESSAGES_BURST: '100000',
    },
  });
  try {
    for (let g = 0; g < options.gateways; g++) {
      for (let attempt = 0; attempt < 600 && (await stack.readiness(g)) !== 200; attempt++)
        await new Promise((resolveLater) => setTimeout(resolveLater, 100));
    }
    const peers: { client: SignalingClient; g: number }[] = [];
    for (let g = 0; g < options.gateways; g++)
      for (let p = 0; p < options.peers; p++) peers.push({ client: await stack.connect(g), g });
    const before = await Promise.all(
      Array.from({ length: options.gateways }, (_, g) => stack.scrapeGatewayMetrics(g)),
    );
    const addressed = new Array<number>(options.gateways).fill(0);
    const startedAt = Date.now();
    // Random pairs on different gateways, a bounded burst at a time.
    for (let n = 0; n < options.signals; n++) {
      const from = peers[Math.floor(Math.random() * peers.length)] as (typeof peers)[number];
      let to = from;
      for (let pick = 0; pick < 100 && to.g === from.g; pick++)
        to = peers[Math.floor(Math.random() * peers.length)] as (typeof peers)[number];
      from.client.signal(to.client.peerId, signals.candidate(n));
      addressed[to.g] += 1;
      if (n % 200 === 199) await new Promise((resolveLater) => setTimeout(resolveLater, 20));
    }
    const expected = addressed.reduce((a, b) => a + b, 0);
    const deadline = Date.now() + 60_000;
    const received = () => peers.reduce((sum, { client }) => sum + client.pending('signal'), 0);
    while (received() < expected && Date.now() < deadline)
      await new Promise((resolveLater) => setTimeout(resolveLater, 50));
    const seconds = (Date.now() - startedAt) / 1000;
    const rows = await Promise.all(
      Array.from({ length: options.gateways }, async (_, g) => {
        const after = await stack.scrapeGatewayMetrics(g);
        const consumed = after.delta(before[g] as typeof after, CONSUMED, { bus });
        return { gateway: g + 1, addressed: addressed[g] as number, consumed };
      }),
    );
    return { bus, rows, delivered: received(), expected, seconds };
  } finally {
    await stack.stop();
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const results = [];
  for (const bus of ['kafka', 'routed'] as const) results.push(await runBus(bus, options));
  console.log(
    `\n${options.gateways} gateways × ${options.peers} peers, ${options.signals} signals between random cross-gateway pairs`,
  );
  console.log('bus      gateway  addressed  consumed  consumed/addressed');
  for (const { bus, rows } of results) {
    for (const { gateway, addressed, consumed } of rows)
      console.log(
        `${bus.padEnd(8)} ${String(gateway).padStart(7)} ${String(addressed).padStart(10)} ${String(consumed).padStart(9)} ${(consumed / Math.max(1, addressed)).toFixed(2).padStart(19)}`,
      );
  }
  for (const { bus, delivered, expected, seconds } of results)
    console.log(`${bus}: delivered ${delivered}/${expected} in ${seconds.toFixed(1)} s`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
