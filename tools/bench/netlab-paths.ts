/**
 * Connection paths through the network lab (tools/netlab, docs/netlab.md),
 * side by side in one run: direct (both browsers in one LAN), TURN/UDP
 * (two symmetric NATs), TURN/TCP (UDP blocked) and TURNS on 443 (only TCP
 * 443 open), and Firefox -> Chromium next to Chromium -> Chromium on the
 * direct and TURN/UDP paths. For each: connection setup (receiver opens the
 * link -> file list shown, i.e. signaling + ICE + the first messages), the
 * rate of one file written to disk and SHA-256 verified, the selected
 * candidate pair (getStats) and its RTT; rates as ratios to the direct
 * Chromium path of the same run.
 *
 * coturn runs the turnserver.conf k8s/ ships, whose max-bps (2.5 MB/s per
 * allocation) caps every relayed path: relayed rates near it show that cap,
 * not what each transport costs.
 *
 * Usage: tools/bench/run.sh netlab-paths [--mib 16] [--runs 1]
 * Needs root (namespaces, nftables) and a build: npx nx run-many -t build -p web,gateway,presence
 */
import { LabPeers } from '../../apps/netlab-e2e/src/lab-browsers';
import { startLabStack } from '../../apps/netlab-e2e/src/lab-stack';
import { NetLab, type LabMode, type LanSide } from '../../apps/netlab-e2e/src/netlab';
import { dataPair } from '../../apps/netlab-e2e/src/rtc-probe';
import {
  ChromiumPeer,
  type Engine,
  filesSettled,
  receiveState,
  shareFrom,
  TestFiles,
} from '@ephemeral/browser-testing';

const MIB = 1024 * 1024;

interface PathCase {
  name: string;
  mode: LabMode;
  sender: [LanSide, Engine];
  receiver: [LanSide, Engine];
}

const CASES: PathCase[] = [
  {
    name: 'direct (one LAN)',
    mode: 'open',
    sender: ['a', 'chromium'],
    receiver: ['a', 'chromium'],
  },
  {
    name: 'TURN/UDP (2 sym. NATs)',
    mode: 'open',
    sender: ['a', 'chromium'],
    receiver: ['b', 'chromium'],
  },
  {
    name: 'TURN/TCP (UDP blocked)',
    mode: 'block-udp',
    sender: ['a', 'chromium'],
    receiver: ['b', 'chromium'],
  },
  {
    name: 'TURNS :443 (TCP 443 only)',
    mode: 'tcp443-only',
    sender: ['a', 'chromium'],
    receiver: ['b', 'chromium'],
  },
  {
    name: 'direct, Firefox -> Chromium',
    mode: 'open',
    sender: ['a', 'firefox'],
    receiver: ['a', 'chromium'],
  },
  {
    name: 'TURN/UDP, Firefox -> Chromium',
    mode: 'open',
    sender: ['a', 'firefox'],
    receiver: ['b', 'chromium'],
  },
];

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

interface Measured {
  setupMs: number;
  mbPerS: number;
  path: string;
  rttMs: number | null;
}

async function measure(
  lab: NetLab,
  peers: LabPeers,
  origin: string,
  files: TestFiles,
  c: PathCase,
  bytes: number,
  run: number,
): Promise<Measured> {
  await lab.mode(c.mode);
  const tag = `${c.name.replace(/\W+/g, '-')}-${run}`;
  const file = files.create(`${tag}/payload.bin`, bytes);
  const launch = ([side, engine]: [LanSide, Engine], role: string) =>
    engine === 'firefox'
      ? peers.firefox(side, `${tag}-${role}`)
      : peers.chromium(side, `${tag}-${role}`);
  try {
    const [sender, receiver] = await Promise.all([
      launch(c.sender, 'tx'),
      launch(c.receiver, 'rx'),
    ]);
    if (!(receiver instanceof ChromiumPeer)) throw new Error('the receiver is Chromium');
    const link = await shareFrom(sender, origin, [file]);
    const opened = Date.now();
    await receiver.goto(link);
    await receiveState(receiver, 'ready', 90_000);
    const setupMs = Date.now() - opened;
    const started = Date.now();
    await receiver.click('[data-testid=download-all]');
    const states = await filesSettled(receiver, 1, 300_000);
    const seconds = (Date.now() - started) / 1000;
    if (states['payload.bin'] !== 'verified')
      throw new Error(`${c.name}: ${JSON.stringify(states)}`);
    const hashes = await receiver.savedFileHashes();
    if (hashes['payload.bin'] !== files.hashes.get(`${tag}/payload.bin`))
      throw new Error(`${c.name}: the file on disk differs`);
    const pair = await dataPair(receiver, 'received');
    const path =
      pair.local.type === 'relay'
        ? `relay-${pair.local.relayProtocol}`
        : `${pair.local.type}-${pair.local.protocol}`;
    return { setupMs, mbPerS: bytes / 1e6 / seconds, path, rttMs: pair.rttMs };
  } finally {
    await peers.closeAll();
  }
}

async function main(): Promise<void> {
  const bytes = option('mib', 16) * MIB;
  const runs = option('runs', 1);
  const lab = await NetLab.up();
  const files = new TestFiles();
  let stack: Awaited<ReturnType<typeof startLabStack>> | undefined;
  try {
    stack = await startLabStack(lab, 'turn');
    const origin = stack.origin;
    const peers = new LabPeers(() => lab);
    const results = new Map<string, Measured[]>();
    // Runs interleaved (case 1..n, then again) so a busy spell of the
    // machine does not land on one case only.
    for (let run = 0; run < runs; run++)
      for (const c of CASES) {
        const m = await measure(lab, peers, origin, files, c, bytes, run);
        results.set(c.name, [...(results.get(c.name) ?? []), m]);
        console.error(`  ${c.name}: ${m.path}, setup ${m.setupMs} ms, ${m.mbPerS.toFixed(1)} MB/s`);
      }
    const median = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      const mid = Math.floor(sorted.length / 2);
      return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    };
    const base = median(results.get(CASES[0].name)!.map((m) => m.mbPerS));
    console.log(`\nnetlab paths: ${bytes / MIB} MiB per transfer, ${runs} run(s), medians\n`);
    console.log('| path | selected pair | setup ms | MB/s | vs direct | RTT ms |');
    console.log('|---|---|---:|---:|---:|---:|');
    for (const c of CASES) {
      const ms = results.get(c.name)!;
      const rate = median(ms.map((m) => m.mbPerS));
      const rtt = ms[0].rttMs;
      console.log(
        `| ${c.name} | ${ms[0].path} | ${Math.round(median(ms.map((m) => m.setupMs)))} | ${rate.toFixed(1)} | ${(rate / base).toFixed(2)} | ${rtt ?? '-'} |`,
      );
    }
    console.log(
      `\nguard counters (packets to outside the lab): ${JSON.stringify(await lab.guard())}`,
    );
  } finally {
    await stack?.stop();
    files.remove();
    await lab.down();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
