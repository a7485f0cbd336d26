/**
 * Web transfer benchmarks, side by side in one run, each reported as a ratio
 * to a baseline measured in the same run (absolute rates swing ±15 % between
 * runs on a shared machine; ratios from one run are what counts):
 *
 *   large        one file: (a) raw data-channel ceiling vs (b) the app (built
 *                web app through the real gateway, written to disk via File
 *                System Access, SHA-256 verified); rates and CPU-seconds per
 *                GiB of each side's whole Chromium process tree (/proc);
 *   small        many small files (1–16 KiB in nested folders) into a folder
 *                and into a zip, vs one file of the same total size (the
 *                median of three one-file runs around them);
 *   fanout       five receivers at once vs one: aggregate rate, fairness,
 *                the sender's memory;
 *   setup        receiver opens the link -> file list shown, p50/p95;
 *   constrained  `large` with both browsers limited to a fraction of a core
 *                (cgroup CPU quota when root, else taskset + cpulimit);
 *   huge         (bench only, never in `all`) a 10 GiB file zipped with a
 *                small one: completes, verified, ZIP64, memory.
 *
 * Usage: tools/bench/run.sh web-transfer [--case large,small,…|all] [--quick]
 *          [--mib 1024] [--files 10000] [--receivers 5] [--opens 20]
 *          [--cpu 0.5] [--huge-gib 10] [--null-sink] [--profile]
 * `--quick` shrinks every case to run in a couple of minutes on a loaded
 * 2-core machine. Build first: npx nx run-many -t build -p web,gateway,presence
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  AppStack,
  closePeer,
  jsHeapBytes,
  launch,
  openLink,
  Peer,
  Saving,
  share,
  waitSettled,
} from './web/app-stack';
import { CpuLimit } from './web/cpu-limit';
import { startProfiler } from './web/page-profiler';
import { CpuMeter, treeRssBytes } from './web/proc-tree';
import { Limits, rawCeiling, SideCosts } from './web/raw-ceiling';
import {
  readSenderTimeline,
  readSetupTimeline,
  SENDER_TIMELINE,
  SETUP_TIMELINE,
  summariseTimelines,
  TimelineMark,
} from './web/setup-timeline';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const mb = (n: number) => (n / 1e6).toFixed(1);
const r2 = (n: number) => n.toFixed(2);

/** A file of `bytes` random bytes; returns its path. */
function randomFile(dir: string, name: string, bytes: number): string {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  for (let written = 0; written < bytes;) {
    const block = randomBytes(Math.min(8 * MIB, bytes - written));
    writeSync(fd, block);
    written += block.length;
  }
  closeSync(fd);
  return path;
}

/** `count` files of 1–16 KiB in a tree of nested folders (a source tree); returns total bytes. */
function sourceTree(root: string, count: number): number {
  let total = 0;
  for (let i = 0; i < count; i++) {
    // 10 files per folder, folders three levels deep: src/m<a>/p<b>/q<c>/f<i>
    // (10 000 files: 1000 leaf folders). Before 2026-12-02 every file had a
    // leaf folder of its own (the path digits were the file's own).
    const folder = Math.floor(i / 10);
    const dir = join(
      root,
      `m${folder % 10}`,
      `p${Math.floor(folder / 10) % 10}`,
      `q${Math.floor(folder / 100)}`,
    );
    mkdirSync(dir, { recursive: true });
    const size = 1024 + Math.floor(Math.random() * 15 * 1024);
    writeFileSync(join(dir, `f${i}.txt`), randomBytes(size));
    total += size;
  }
  return total;
}

function table(title: string, command: string, head: string[], rows: string[][]): void {
  console.log(`\n### ${title}\n\n\`${command}\`\n`);
  console.log(`| ${head.join(' | ')} |`);
  console.log(`| ${head.map(() => '---').join(' | ')} |`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

function topThreads(label: string, threads: Array<[string, number]>, gib: number): string {
  return (
    `  ${label}: ` +
    threads.map(([k, s]) => `${k} ${(s / gib).toFixed(1)}`).join(', ') +
    ' CPU-s/GiB'
  );
}

interface AppRun {
  seconds: number;
  rate: number;
  wireRate: number;
  states: Record<string, number>;
  sender: ReturnType<CpuMeter['stop']>;
  receiver: ReturnType<CpuMeter['stop']>;
  receiverTabGrowth: number;
  receiverTreeGrowth: number;
  receiverHeapGrowth: number;
  senderTreeGrowth: number;
}

/**
 * One sender, one receiver through `stack`: shares `files`/`folder`, opens
 * the link, clicks "download all", waits until `count` files are settled.
 * Memory peaks are sampled twice a second.
 */
async function appRun(
  stack: AppStack,
  opts: {
    files: string[];
    folder?: string;
    count: number;
    bytes: number;
    saving: Saving;
    timeoutMs: number;
    limit?: Limits;
    /** Print each page's busiest functions (V8 sampling profiler). */
    profile?: boolean;
  },
): Promise<AppRun> {
  const [sender, receiver] = await Promise.all([launch('app-tx'), launch('app-rx', opts.saving)]);
  try {
    const link = await share(sender, stack.origin, opts.files, opts.folder);
    await openLink(receiver, link, 120_000);
    opts.limit?.sender.apply(sender.profile);
    opts.limit?.receiver.apply(receiver.profile);
    const cpuTx = new CpuMeter(sender.profile);
    const cpuRx = new CpuMeter(receiver.profile);
    const tabBefore = treeRssBytes(receiver.profile, 'renderer');
    const treeBefore = treeRssBytes(receiver.profile);
    const senderBefore = treeRssBytes(sender.profile);
    const heapBefore = await jsHeapBytes(receiver);
    let tab = tabBefore;
    let tree = treeBefore;
    let senderPeak = senderBefore;
    let heap = heapBefore;
    const profilers = opts.profile
      ? await Promise.all([startProfiler(sender.page), startProfiler(receiver.page)])
      : [];
    cpuTx.start();
    cpuRx.start();
    const started = Date.now();
    await receiver.page.click('[data-testid=download-all]');
    const states = await waitSettled(receiver, opts.count, opts.timeoutMs, async () => {
      tab = Math.max(tab, treeRssBytes(receiver.profile, 'renderer'));
      tree = Math.max(tree, treeRssBytes(receiver.profile));
      senderPeak = Math.max(senderPeak, treeRssBytes(sender.profile));
      heap = Math.max(heap, await jsHeapBytes(receiver));
    });
    const seconds = (Date.now() - started) / 1000;
    if (profilers.length === 2) {
      console.log('  sender page, main thread, top self time:\n' + (await profilers[0]()));
      console.log('  receiver page, main thread, top self time:\n' + (await profilers[1]()));
    }
    const tap = await receiver.page.evaluate(
      () => (window as unknown as { __tap: { bytes: number; first: number; last: number } }).__tap,
    );
    return {
      seconds,
      rate: opts.bytes / seconds,
      wireRate: (tap.bytes / Math.max(1, tap.last - tap.first)) * 1000,
      states,
      // With --profile, enough threads to see where the rest of the CPU went.
      sender: cpuTx.stop(opts.profile ? 12 : 6),
      receiver: cpuRx.stop(opts.profile ? 12 : 6),
      receiverTabGrowth: tab - tabBefore,
      receiverTreeGrowth: tree - treeBefore,
      receiverHeapGrowth: heap - heapBefore,
      senderTreeGrowth: senderPeak - senderBefore,
    };
  } finally {
    await Promise.all([closePeer(sender), closePeer(receiver)]);
  }
}

const verified = (states: Record<string, number>, count: number) =>
  (states['verified'] ?? 0) === count ? 'verified' : `NOT verified ${JSON.stringify(states)}`;

/** Case `large` (and `constrained` when `limit` is given). */
async function largeCase(
  stack: AppStack,
  work: string,
  mib: number,
  saving: Saving,
  profile: boolean,
  command: string,
  limit?: Limits,
): Promise<void> {
  const bytes = mib * MIB;
  const gib = bytes / GIB;
  const path = randomFile(work, 'large.bin', bytes);
  console.log(
    `large: ${mib} MiB, raw ceiling then the app${limit ? ` (${limit.sender.kind})` : ''}…`,
  );
  const raw: SideCosts = await rawCeiling(bytes, limit);
  const app = await appRun(stack, {
    files: [path],
    count: 1,
    bytes,
    saving,
    timeoutMs: 60_000 + (bytes / 2e6) * 1000,
    limit,
    profile,
  });
  rmSync(path);
  const perGib = (s: number) => s / gib;
  table(
    limit
      ? `constrained CPU: each browser limited to ${limit.sender.fraction} core`
      : 'one large file',
    command,
    [
      '',
      'MB/s',
      'sender CPU-s/GiB',
      'receiver CPU-s/GiB',
      'receiver memory growth',
      'sender memory growth',
    ],
    [
      [
        '(a) raw',
        mb(raw.rate),
        perGib(raw.sender.seconds).toFixed(1),
        perGib(raw.receiver.seconds).toFixed(1),
        // The raw receiver drops each message as it comes: what Chromium's
        // own data-channel path holds, the floor for the app's figure.
        `tab +${mb(raw.memory.receiverTab)} MB, tree +${mb(raw.memory.receiverTree)} MB`,
        `tree +${mb(raw.memory.senderTree)} MB`,
      ],
      [
        `(b) app, ${verified(app.states, 1)}`,
        mb(app.rate),
        perGib(app.sender.seconds).toFixed(1),
        perGib(app.receiver.seconds).toFixed(1),
        `tab +${mb(app.receiverTabGrowth)} MB, tree +${mb(app.receiverTreeGrowth)} MB, heap +${mb(app.receiverHeapGrowth)} MB`,
        `tree +${mb(app.senderTreeGrowth)} MB`,
      ],
      [
        '(b)/(a)',
        r2(app.rate / raw.rate),
        r2(app.sender.seconds / raw.sender.seconds),
        r2(app.receiver.seconds / raw.receiver.seconds),
        '',
        '',
      ],
    ],
  );
  console.log(
    `\n  app, first to last byte on the wire: ${mb(app.wireRate)} MB/s (${r2(app.wireRate / raw.rate)} of raw)`,
  );
  if (profile) {
    console.log(topThreads('raw sender threads', raw.sender.threads, gib));
    console.log(topThreads('raw receiver threads', raw.receiver.threads, gib));
    console.log(topThreads('app sender threads', app.sender.threads, gib));
    console.log(topThreads('app receiver threads', app.receiver.threads, gib));
  }
}

/** Case `small`: many small files into a folder and into a zip vs one file of the same size. */
async function smallCase(
  stack: AppStack,
  work: string,
  count: number,
  command: string,
  profile: boolean,
): Promise<void> {
  const root = join(work, 'src');
  const total = sourceTree(root, count);
  const single = randomFile(work, 'same-size.bin', total);
  console.log(
    `small: ${count} files, ${mb(total)} MB; one file of the same size (three times: before, between and after), folder, zip…`,
  );
  const timeoutMs = 30 * 60_000;
  // The one-file time is the denominator of both ratios and it swung 6.9–
  // 12.1 s between runs on this shared machine: it is measured three times,
  // before, between and after the two many-file runs, and the median is used.
  const oneFile = () =>
    appRun(stack, { files: [single], count: 1, bytes: total, saving: 'picker', timeoutMs });
  const ones: AppRun[] = [await oneFile()];
  const folder = await appRun(stack, {
    files: [],
    folder: root,
    count,
    bytes: total,
    saving: 'picker',
    timeoutMs,
    profile,
  });
  ones.push(await oneFile());
  const zip = await appRun(stack, {
    files: [],
    folder: root,
    count,
    bytes: total,
    saving: 'download',
    timeoutMs,
    profile,
  });
  ones.push(await oneFile());
  const one = [...ones].sort((a, b) => a.seconds - b.seconds)[1];
  const row = (name: string, run: AppRun, n: number) => [
    name,
    verified(run.states, n),
    run.seconds.toFixed(1),
    mb(run.rate),
    r2(run.seconds / one.seconds),
    run.sender.seconds.toFixed(1),
    run.receiver.seconds.toFixed(1),
  ];
  table(
    `${count} small files (1–16 KiB, nested folders, ${mb(total)} MB)`,
    command,
    [
      '',
      'result',
      's (click → all verified)',
      'MB/s',
      '× one-file time',
      'sender CPU-s',
      'receiver CPU-s',
    ],
    [
      row(
        `one file, same size (median of ${ones.map((r) => r.seconds.toFixed(1)).join(', ')} s)`,
        one,
        1,
      ),
      row(`${count} files → folder`, folder, count),
      row(`${count} files → zip`, zip, count),
    ],
  );
  if (profile) {
    for (const [name, run] of [
      ['folder', folder],
      ['zip', zip],
    ] as const) {
      console.log(topThreads(`${name}: sender threads`, run.sender.threads, 1).replace('/GiB', ''));
      console.log(
        topThreads(`${name}: receiver threads`, run.receiver.threads, 1).replace('/GiB', ''),
      );
    }
  }
  rmSync(root, { recursive: true, force: true });
  rmSync(single);
}

/** Case `fanout`: `receivers` receivers at once vs one, from one sender. */
async function fanoutCase(
  stack: AppStack,
  work: string,
  mib: number,
  receivers: number,
  command: string,
): Promise<void> {
  const bytes = mib * MIB;
  const path = randomFile(work, 'fanout.bin', bytes);
  console.log(`fanout: ${mib} MiB to one receiver, then to ${receivers} at once…`);
  const timeoutMs = 60_000 + ((bytes * receivers) / 1e6) * 1000;
  const one = await appRun(stack, { files: [path], count: 1, bytes, saving: 'null', timeoutMs });
  const sender = await launch('fan-tx');
  const peers: Peer[] = [];
  try {
    for (let i = 0; i < receivers; i++) peers.push(await launch(`fan-rx${i}`, 'null'));
    const link = await share(sender, stack.origin, [path]);
    for (const peer of peers) await openLink(peer, link, 120_000);
    const senderBefore = treeRssBytes(sender.profile);
    const heapBefore = await jsHeapBytes(sender);
    let senderPeak = senderBefore;
    let heapPeak = heapBefore;
    const started = Date.now();
    await Promise.all(peers.map((p) => p.page.click('[data-testid=download-all]')));
    const times = await Promise.all(
      peers.map(async (peer, i) => {
        const states = await waitSettled(peer, 1, timeoutMs, async () => {
          if (i !== 0) return;
          senderPeak = Math.max(senderPeak, treeRssBytes(sender.profile));
          heapPeak = Math.max(heapPeak, await jsHeapBytes(sender));
        });
        return { seconds: (Date.now() - started) / 1000, states };
      }),
    );
    const rates = times.map((t) => bytes / t.seconds);
    const aggregate = (bytes * receivers) / Math.max(...times.map((t) => t.seconds));
    const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
    const allVerified = times.every((t) => t.states['verified'] === 1);
    table(
      `${receivers} receivers at once, ${mib} MiB each (receivers discard bytes: null sink)`,
      command,
      ['', 'MB/s', 'ratio'],
      [
        ['one receiver', mb(one.rate), '1.00'],
        [
          `${receivers} receivers, aggregate (${allVerified ? 'all verified' : 'NOT all verified'})`,
          mb(aggregate),
          r2(aggregate / one.rate),
        ],
        [
          'slowest / fastest receiver',
          `${mb(Math.min(...rates))} / ${mb(Math.max(...rates))}`,
          r2(Math.min(...rates) / Math.max(...rates)),
        ],
        [
          'slowest / mean',
          `${mb(Math.min(...rates))} / ${mb(mean)}`,
          r2(Math.min(...rates) / mean),
        ],
        [
          'sender memory growth (peak − before)',
          `tree +${mb(senderPeak - senderBefore)} MB, heap +${mb(heapPeak - heapBefore)} MB (one receiver: tree +${mb(one.senderTreeGrowth)} MB)`,
          '',
        ],
      ],
    );
  } finally {
    await Promise.all([sender, ...peers].map(closePeer));
    rmSync(path);
  }
}

/**
 * Resolves in the page once the file list's first row is in the DOM (at
 * once if it is already), through a MutationObserver: Playwright's
 * locator.waitFor() polls with a backoff (0, 20, 50, 100, 100, 500 ms
 * between checks), which put up to 100 ms of the harness's own waiting
 * into every open before 2026-12-02 (ADR 0034).
 */
const LIST_SHOWN = (timeoutMs: number) =>
  new Promise<void>((resolve, reject) => {
    const shown = () => document.querySelector('[data-testid=file-list] li') !== null;
    if (shown()) return resolve();
    const timer = setTimeout(() => {
      observer.disconnect();
      reject(new Error(`no file list within ${timeoutMs} ms`));
    }, timeoutMs);
    const observer = new MutationObserver(() => {
      if (!shown()) return;
      observer.disconnect();
      clearTimeout(timer);
      resolve();
    });
    observer.observe(document, { childList: true, subtree: true });
  });

/** Case `setup`: receiver opens the link -> file list shown, `opens` times. */
async function setupCase(
  stack: AppStack,
  work: string,
  opens: number,
  command: string,
): Promise<void> {
  const path = randomFile(work, 'setup.bin', 1 * MIB);
  const [sender, receiver] = await Promise.all([launch('setup-tx'), launch('setup-rx', 'picker')]);
  console.log(`setup: ${opens} opens of one link…`);
  await receiver.context.addInitScript(SETUP_TIMELINE);
  await sender.context.addInitScript(SENDER_TIMELINE);
  try {
    const link = await share(sender, stack.origin, [path]);
    // Three clocks per open: the harness's (page.goto → it saw the list),
    // the page's own (its navigation start → the list's first row in
    // the DOM, what a person waits for), and the gap between them (the
    // navigation starting after goto, the detection after the render).
    const times: number[] = [];
    const inPage: number[] = [];
    const beforeNavigation: number[] = [];
    const timelines: Array<Partial<Record<TimelineMark, number>>> = [];
    const loadStart = loadavg()[0];
    for (let i = 0; i < opens; i++) {
      const page = await receiver.context.newPage();
      const started = performance.now();
      const startedEpoch = performance.timeOrigin + started;
      await page.goto(link);
      await page.evaluate(LIST_SHOWN, 60_000);
      const detected = performance.now();
      times.push(detected - started);
      const { 'time-origin': origin, ...timeline } = await readSetupTimeline(page);
      if (origin !== undefined) {
        beforeNavigation.push(origin - startedEpoch);
        timelines.push({
          ...timeline,
          ...(await readSenderTimeline(sender.page, origin)),
          detected: performance.timeOrigin + detected - origin,
        });
      } else timelines.push(timeline);
      if (timeline['list-shown'] !== undefined) inPage.push(timeline['list-shown']);
      await page.close();
    }
    const percentiles = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      const pct = (p: number) =>
        sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
      const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      return [s(pct(50)), s(pct(95)), s(sorted[0]), s(sorted[sorted.length - 1])];
    };
    table(
      `connection setup: open link → file list shown, ${opens} opens (page load, signaling, ICE, DTLS, proof, manifest)`,
      command,
      ['clock', 'p50', 'p95', 'min', 'max'],
      [
        ['harness: page.goto → list seen', ...percentiles(times)],
        ...(inPage.length === times.length
          ? [['page: navigation start → list in the DOM', ...percentiles(inPage)]]
          : []),
      ],
    );
    const medianMs = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)].toFixed(0);
    console.log(
      `\n  load average (1 min): ${loadStart.toFixed(1)} at the first open, ${loadavg()[0].toFixed(1)} after the last`,
    );
    if (beforeNavigation.length > 0)
      console.log(
        `  page.goto → the page's navigation start: p50 ${medianMs(beforeNavigation)} ms`,
      );
    console.log(
      '\n  where it goes (receiver page, ms since navigation start, p50 over the opens):\n' +
        summariseTimelines(timelines),
    );
  } finally {
    await Promise.all([closePeer(sender), closePeer(receiver)]);
    rmSync(path);
  }
}

/** Case `huge`: a `gib` GiB file and a small one, zipped into a browser download. */
async function hugeCase(
  stack: AppStack,
  work: string,
  gib: number,
  command: string,
  profile: boolean,
): Promise<void> {
  const bytes = gib * GIB;
  const big = randomFile(work, 'huge.bin', bytes);
  const small = randomFile(work, 'small.bin', 4096);
  const [sender, receiver] = await Promise.all([launch('huge-tx'), launch('huge-rx', 'download')]);
  console.log(`huge: ${gib} GiB + 4 KiB, zipped…`);
  try {
    const link = await share(sender, stack.origin, [big, small]);
    await openLink(receiver, link, 120_000);
    const download = receiver.page.waitForEvent('download', { timeout: 120_000 });
    const tab0 = treeRssBytes(receiver.profile, 'renderer');
    const tree0 = treeRssBytes(receiver.profile);
    const tx0 = treeRssBytes(sender.profile);
    let tab = tab0;
    let tree = tree0;
    let tx = tx0;
    const cpuTx = new CpuMeter(sender.profile);
    const cpuRx = new CpuMeter(receiver.profile);
    const profilers = profile
      ? await Promise.all([startProfiler(sender.page), startProfiler(receiver.page)])
      : [];
    cpuTx.start();
    cpuRx.start();
    const started = Date.now();
    await receiver.page.click('[data-testid=download-all]');
    const states = await waitSettled(receiver, 2, 60_000 + (bytes / 2e6) * 1000, () => {
      tab = Math.max(tab, treeRssBytes(receiver.profile, 'renderer'));
      tree = Math.max(tree, treeRssBytes(receiver.profile));
      tx = Math.max(tx, treeRssBytes(sender.profile));
    });
    const seconds = (Date.now() - started) / 1000;
    const cpu = { sender: cpuTx.stop(profile ? 12 : 6), receiver: cpuRx.stop(profile ? 12 : 6) };
    if (profilers.length === 2) {
      console.log('  sender page, main thread, top self time:\n' + (await profilers[0]()));
      console.log('  receiver page, main thread, top self time:\n' + (await profilers[1]()));
    }
    const zipPath = await (await download).path();
    // The ZIP64 end of central directory record (signature 0x06064b50) sits
    // 56 + 20 + 22 bytes before the end of an archive without a comment.
    const size = statSync(zipPath).size;
    const tail = Buffer.alloc(98);
    const fd = openSync(zipPath, 'r');
    readSync(fd, tail, 0, 98, size - 98);
    closeSync(fd);
    const zip64 = tail.readUInt32LE(0) === 0x06064b50;
    table(
      `${gib} GiB file + 4 KiB file, zipped into a browser download`,
      command,
      [
        'result',
        'MB/s',
        'CPU-s/GiB sender / receiver',
        'zip',
        'receiver memory growth',
        'sender memory growth',
      ],
      [
        [
          verified(states, 2),
          mb(bytes / seconds),
          `${(cpu.sender.seconds / gib).toFixed(1)} / ${(cpu.receiver.seconds / gib).toFixed(1)}`,
          `${mb(size)} MB, ZIP64 end record: ${zip64 ? 'yes' : 'NO'}`,
          `tab +${mb(tab - tab0)} MB, tree +${mb(tree - tree0)} MB`,
          `tree +${mb(tx - tx0)} MB`,
        ],
      ],
    );
    console.log(topThreads('sender threads', cpu.sender.threads, gib));
    console.log(topThreads('receiver threads', cpu.receiver.threads, gib));
  } finally {
    await Promise.all([closePeer(sender), closePeer(receiver)]);
    rmSync(big);
    rmSync(small);
  }
}

function numberArg(
  args: string[],
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const at = args.indexOf(name);
  const value = at >= 0 ? Number(args[at + 1]) : fallback;
  if (!Number.isFinite(value)) throw new Error(`${name} needs a number`);
  return Math.min(max, Math.max(min, value));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const caseArg = args.indexOf('--case');
  const all = ['large', 'small', 'fanout', 'setup', 'constrained'];
  const cases = caseArg >= 0 ? args[caseArg + 1].split(',') : ['large'];
  const selected = cases.includes('all') ? all : cases;
  for (const name of selected)
    if (![...all, 'huge'].includes(name)) throw new Error(`unknown case ${name}`);
  // Every size is bounded: between 16 MiB and 4 GiB (huge: up to 16 GiB).
  const mib = numberArg(args, '--mib', quick ? 128 : 1024, 16, 4096);
  const files = numberArg(args, '--files', quick ? 1000 : 10_000, 10, 20_000);
  const receivers = numberArg(args, '--receivers', 5, 2, 8);
  const opens = numberArg(args, '--opens', quick ? 10 : 20, 2, 100);
  const fraction = numberArg(args, '--cpu', 0.5, 0.1, 1);
  const hugeGib = numberArg(args, '--huge-gib', 10, 1, 16);
  const command = `tools/bench/run.sh web-transfer ${args.join(' ')}`;
  const work = mkdtempSync(join(tmpdir(), 'bench-web-'));
  const stack = await AppStack.start();
  try {
    for (const name of selected) {
      if (name === 'large')
        await largeCase(
          stack,
          work,
          mib,
          args.includes('--null-sink') ? 'null' : 'picker',
          args.includes('--profile'),
          command,
        );
      if (name === 'small')
        await smallCase(stack, work, files, command, args.includes('--profile'));
      if (name === 'fanout')
        await fanoutCase(stack, work, quick ? 64 : Math.min(mib, 256), receivers, command);
      if (name === 'setup') await setupCase(stack, work, opens, command);
      if (name === 'huge')
        await hugeCase(stack, work, hugeGib, command, args.includes('--profile'));
      if (name === 'constrained') {
        const limit = {
          sender: CpuLimit.create('tx', fraction),
          receiver: CpuLimit.create('rx', fraction),
        };
        try {
          await largeCase(
            stack,
            work,
            quick ? 64 : Math.min(mib, 256),
            'picker',
            args.includes('--profile'),
            command,
            limit,
          );
        } finally {
          limit.sender.dispose();
          limit.receiver.dispose();
        }
      }
    }
  } finally {
    await stack.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
