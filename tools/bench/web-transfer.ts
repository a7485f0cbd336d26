/**
 * Web transfer benchmark, one run on this machine:
 *   (a) raw ceiling: two headless Chromium processes, two RTCPeerConnections,
 *       one data channel pushing bytes as fast as it allows (64 KiB messages,
 *       paused above 256 KiB buffered, resumed below 64 KiB);
 *   (b) the app: the built web app served by the real gateway (+ presence),
 *       sender page -> receiver page, one file, written to disk (origin
 *       private file system via the stubbed picker, as in the e2e suite) and
 *       SHA-256 verified.
 * Prints both rates, (b)/(a), and the receiver's memory growth during (b):
 * RSS of the receiver's whole Chromium process tree, and its JS heap.
 *
 * Usage: tools/bench/run.sh web-transfer [--mib 1024] [--null-sink] [--profile]
 * Build first: npx nx run-many -t build -p web,gateway,presence
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  builtAppEntry,
  CHROMIUM_ARGS,
  CHROMIUM_PATH,
  freePort,
  ServiceProcess,
  workspaceRoot,
} from '@ephemeral/testing';
import { BrowserContext, chromium, Page } from 'playwright-core';

const BENCH_CHROMIUM_ARGS = [
  ...CHROMIUM_ARGS,
  // performance.memory otherwise reports coarse, bucketed values.
  '--enable-precise-memory-info',
];
const MIB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Peer {
  context: BrowserContext;
  page: Page;
  profile: string;
}

async function launch(name: string): Promise<Peer> {
  const profile = mkdtempSync(join(tmpdir(), `bench-${name}-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: BENCH_CHROMIUM_ARGS,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page, profile };
}

async function closePeer(peer: Peer): Promise<void> {
  await peer.context.close().catch(() => undefined);
  rmSync(peer.profile, { recursive: true, force: true });
}

/**
 * Resident memory of the Chromium whose command line names `profile`, plus
 * all its descendants (`only: 'renderer'` counts just the renderer processes,
 * i.e. the tab).
 */
function treeRssBytes(profile: string, only: 'all' | 'renderer' = 'all'): number {
  const parents = new Map<number, number>();
  const rss = new Map<number, number>();
  let root = -1;
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      parents.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      rss.set(pid, Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024);
      if (
        root < 0 &&
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`--user-data-dir=${profile}`)
      ) {
        const parent = parents.get(pid) ?? 0;
        // The browser process: the one whose parent does not carry the flag.
        const parentCmd = existsSync(`/proc/${parent}/cmdline`)
          ? readFileSync(`/proc/${parent}/cmdline`, 'utf8')
          : '';
        if (!parentCmd.includes(`--user-data-dir=${profile}`)) root = pid;
      }
    } catch {
      // process ended while we looked
    }
  }
  if (root < 0) return NaN;
  let total = 0;
  const inTree = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = parents.get(p) ?? 0, hops++)
      if (p === root) return true;
    return false;
  };
  for (const [pid, bytes] of rss) {
    if (!inTree(pid)) continue;
    if (only === 'renderer') {
      try {
        if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      } catch {
        continue;
      }
    }
    total += bytes;
  }
  return total;
}

// Bounds for the raw-ceiling phase: each negotiation step, and how long the
// bytes may stop moving (either side) before the phase fails instead of hanging.
const RAW_STEP_TIMEOUT_MS = 30_000;
const RAW_STALL_MS = 15_000;

/** Rejects with `what` when `promise` has not settled within `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: timed out after ${(ms / 1000).toFixed(0)} s`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface RawWindow {
  pc: RTCPeerConnection;
  dc: RTCDataChannel;
  gathered: Promise<void>;
  rx: { got: number; first: number; last: number };
  tx: { sent: number };
}

/** Connection, ICE and channel state plus byte counts of one raw-ceiling page, for error messages. */
function rawState(page: Page): Promise<string> {
  const probe = page.evaluate(() => {
    const w = window as unknown as Partial<RawWindow>;
    if (!w.pc || !w.dc || !w.rx || !w.tx) return 'not set up';
    return (
      `connection ${w.pc.connectionState}, ICE ${w.pc.iceConnectionState}, ` +
      `gathering ${w.pc.iceGatheringState}, channel ${w.dc.readyState}, ` +
      `sent ${w.tx.sent} B (buffered ${w.dc.bufferedAmount} B), received ${w.rx.got} B`
    );
  });
  return withTimeout(probe, 2_000, 'reading page state').catch(
    (e: unknown) => `unknown (${String(e)})`,
  );
}

/**
 * (a): raw data-channel throughput between two browser processes.
 *
 * The receiver counts bytes from a handler installed together with the
 * channel, before any negotiation: a message that arrives on a channel with
 * no listener is dropped, and an earlier version (handler installed by a
 * page.evaluate that was not awaited before the sender started) lost the
 * first messages whenever the sender won that race, then waited forever for
 * bytes that had already gone by.
 */
async function rawCeiling(bytes: number): Promise<number> {
  const [a, b] = await Promise.all([launch('raw-a'), launch('raw-b')]);
  const step = async <T>(
    what: string,
    run: () => Promise<T>,
    ms = RAW_STEP_TIMEOUT_MS,
  ): Promise<T> => {
    try {
      return await withTimeout(run(), ms, what);
    } catch (error) {
      const [stateA, stateB] = await Promise.all([rawState(a.page), rawState(b.page)]);
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `raw ceiling failed (${reason})\n` + `  sender (a):   ${stateA}\n  receiver (b): ${stateB}`,
      );
    }
  };
  try {
    const setup = `window.pc = new RTCPeerConnection();
      window.dc = pc.createDataChannel('bench', { negotiated: true, id: 0 });
      dc.binaryType = 'arraybuffer';
      window.tx = { sent: 0 };
      window.rx = { got: 0, first: 0, last: 0 };
      dc.onmessage = (e) => {
        const now = performance.now();
        if (rx.got === 0) rx.first = now;
        rx.got += e.data.byteLength;
        rx.last = now;
      };
      window.gathered = new Promise((r) => pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r()));
      0;`;
    await step('setting up the peer connections', () =>
      Promise.all([a.page.evaluate(setup), b.page.evaluate(setup)]),
    );
    const offer = await step('creating the offer (ICE gathering on a)', () =>
      a.page.evaluate(async () => {
        const w = window as unknown as RawWindow;
        await w.pc.setLocalDescription(await w.pc.createOffer());
        await w.gathered;
        return w.pc.localDescription!.sdp;
      }),
    );
    const answer = await step('creating the answer (ICE gathering on b)', () =>
      b.page.evaluate(async (sdp) => {
        const w = window as unknown as RawWindow;
        await w.pc.setRemoteDescription({ type: 'offer', sdp });
        await w.pc.setLocalDescription(await w.pc.createAnswer());
        await w.gathered;
        return w.pc.localDescription!.sdp;
      }, offer),
    );
    await step('connecting (ICE, DTLS, SCTP) until the data channel opens', () =>
      a.page.evaluate(async (sdp) => {
        const w = window as unknown as RawWindow;
        await w.pc.setRemoteDescription({ type: 'answer', sdp });
        if (w.dc.readyState !== 'open')
          await new Promise((r) => w.dc.addEventListener('open', r, { once: true }));
      }, answer),
    );
    // Progress-bounded on both sides (no bytes moving for RAW_STALL_MS fails
    // the phase), plus an overall deadline far above any sane rate (4 MB/s).
    const deadlineMs = 60_000 + (bytes / 4e6) * 1000;
    const received = b.page.evaluate(
      ({ total, stallMs }) =>
        new Promise<number>((resolve, reject) => {
          const rx = (window as unknown as RawWindow).rx;
          let seen = rx.got;
          let progressAt = performance.now();
          const tick = setInterval(() => {
            const now = performance.now();
            if (rx.got >= total) {
              clearInterval(tick);
              resolve((rx.got / (rx.last - rx.first)) * 1000);
            } else if (rx.got !== seen) {
              seen = rx.got;
              progressAt = now;
            } else if (now - progressAt > stallMs) {
              clearInterval(tick);
              reject(
                new Error(
                  `receiver: no bytes for ${stallMs / 1000} s, ${rx.got} of ${total} B received`,
                ),
              );
            }
          }, 50);
        }),
      { total: bytes, stallMs: RAW_STALL_MS },
    );
    const sent = a.page.evaluate(
      async ({ total, stallMs }) => {
        const { dc, tx } = window as unknown as RawWindow;
        const chunk = new Uint8Array(64 * 1024);
        dc.bufferedAmountLowThreshold = 64 * 1024;
        for (; tx.sent < total; tx.sent += chunk.length) {
          if (dc.bufferedAmount > 256 * 1024)
            await new Promise<void>((resolve, reject) => {
              const timer = setTimeout(() => {
                dc.removeEventListener('bufferedamountlow', low);
                reject(
                  new Error(
                    `sender: send buffer did not drain for ${stallMs / 1000} s (${dc.bufferedAmount} B buffered, channel ${dc.readyState})`,
                  ),
                );
              }, stallMs);
              const low = () => {
                clearTimeout(timer);
                resolve();
              };
              dc.addEventListener('bufferedamountlow', low, { once: true });
            });
          dc.send(chunk);
        }
      },
      { total: bytes, stallMs: RAW_STALL_MS },
    );
    const [rate] = await step(
      `transferring ${bytes} B`,
      () => Promise.all([received, sent]),
      deadlineMs,
    );
    return rate;
  } finally {
    await Promise.all([closePeer(a), closePeer(b)]);
  }
}

// Times the first and last byte on the receiver's data channel, to tell wire
// time from the time spent finishing (flush, close, verify).
const DATA_TAP = `(() => {
  window.__tap = { bytes: 0, first: 0, last: 0 };
  const create = RTCPeerConnection.prototype.createDataChannel;
  RTCPeerConnection.prototype.createDataChannel = function (...args) {
    const channel = create.apply(this, args);
    if (channel.label === 'data') channel.addEventListener('message', (e) => {
      const t = window.__tap; const now = performance.now();
      if (t.bytes === 0) t.first = now;
      t.bytes += e.data.byteLength; t.last = now;
    });
    return channel;
  };
})();`;

const PICKER_STUB = `(() => {
  const folder = async () => (await navigator.storage.getDirectory()).getDirectoryHandle('bench', { create: true });
  window.showDirectoryPicker = async () => folder();
  window.showSaveFilePicker = async (o) => (await folder()).getFileHandle((o && o.suggestedName) || 'f', { create: true });
})();`;

// With --null-sink the receiver's "disk" discards bytes: separates the cost
// of writing to disk from the rest of the app.
const NULL_SINK_STUB = `(() => {
  const writable = { write: async () => undefined, close: async () => undefined, abort: async () => undefined };
  const file = { kind: 'file', createWritable: async () => writable };
  const dir = { kind: 'directory', getDirectoryHandle: async () => dir, getFileHandle: async () => file };
  window.showDirectoryPicker = async () => dir;
  window.showSaveFilePicker = async () => file;
})();`;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** Starts the V8 CPU profiler on a page; the returned function stops it and summarises self time. */
async function startProfiler(page: Page): Promise<() => Promise<string>> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 1000 });
  await cdp.send('Profiler.start');
  return async () => {
    const { profile } = (await cdp.send('Profiler.stop')) as unknown as {
      profile: { nodes: ProfileNode[]; samples: number[] };
    };
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const counts = new Map<string, number>();
    for (const id of profile.samples) {
      const frame = byId.get(id)?.callFrame;
      const key = frame
        ? `${frame.functionName || '(anonymous)'} ${frame.url.split('/').pop()}:${frame.lineNumber}`
        : '?';
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const total = profile.samples.length || 1;
    return [...counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([key, n]) => `    ${((n / total) * 100).toFixed(1).padStart(5)}%  ${key}`)
      .join('\n');
  };
}

/** (b): the app through the real gateway. */
async function appTransfer(bytes: number, nullSink: boolean, profile: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-file-'));
  const path = join(dir, 'bench.bin');
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  for (let written = 0; written < bytes;) {
    const block = randomBytes(Math.min(8 * MIB, bytes - written));
    writeSync(fd, block);
    hash.update(block);
    written += block.length;
  }
  closeSync(fd);

  const presencePort = await freePort();
  const presence = await ServiceProcess.start({
    name: 'presence',
    entry: builtAppEntry('presence'),
    env: { PRESENCE_PORT: String(presencePort), LOG_LEVEL: 'info' },
    readyWhen: /presence listening/,
  });
  const port = await freePort();
  const gateway = await ServiceProcess.start({
    name: 'gateway',
    entry: builtAppEntry('gateway'),
    env: {
      PORT: String(port),
      PRESENCE_URL: `127.0.0.1:${presencePort}`,
      WEB_ROOT: join(workspaceRoot, 'dist/apps/web/browser'),
      LOG_LEVEL: 'info',
    },
    readyWhen: /gateway listening/,
  });
  const origin = `http://127.0.0.1:${port}`;
  const [sender, receiver] = await Promise.all([launch('app-tx'), launch('app-rx')]);
  try {
    await receiver.context.addInitScript(nullSink ? NULL_SINK_STUB : PICKER_STUB);
    await receiver.context.addInitScript(DATA_TAP);
    await sender.page.goto(origin + '/');
    await sender.page.setInputFiles('[data-testid=file-input]', path);
    const link = await sender.page
      .locator('[data-testid=share-link]')
      .inputValue({ timeout: 15_000 });
    await receiver.page.goto(link);
    await receiver.page
      .locator('[data-testid=receive-state][data-state=ready]')
      .waitFor({ state: 'attached', timeout: 30_000 });
    await sleep(1000);
    const heap = () =>
      receiver.page.evaluate(
        () =>
          (performance as unknown as { memory: { usedJSHeapSize: number } }).memory.usedJSHeapSize,
      );
    const rssBefore = treeRssBytes(receiver.profile);
    const tabBefore = treeRssBytes(receiver.profile, 'renderer');
    const heapBefore = await heap();
    let rssPeak = rssBefore;
    let tabPeak = tabBefore;
    let heapPeak = heapBefore;
    const profilers = profile
      ? await Promise.all([startProfiler(sender.page), startProfiler(receiver.page)])
      : [];
    const started = Date.now();
    await receiver.page.click('[data-testid=download-all]');
    // Bounded: 10 minutes at most, sampling memory twice a second.
    let state = '';
    for (let i = 0; i < 1200; i++) {
      state =
        (await receiver.page.locator('[data-testid=file-list] li').getAttribute('data-state')) ??
        '';
      rssPeak = Math.max(rssPeak, treeRssBytes(receiver.profile));
      tabPeak = Math.max(tabPeak, treeRssBytes(receiver.profile, 'renderer'));
      heapPeak = Math.max(heapPeak, await heap());
      if (state === 'verified' || state === 'failed') break;
      await sleep(500);
    }
    const seconds = (Date.now() - started) / 1000;
    if (profilers.length === 2) {
      console.log('  sender main thread, top self time:\n' + (await profilers[0]()));
      console.log('  receiver main thread, top self time:\n' + (await profilers[1]()));
    }
    const tap = await receiver.page.evaluate(
      () => (window as unknown as { __tap: { bytes: number; first: number; last: number } }).__tap,
    );
    return {
      wireRate: (tap.bytes / (tap.last - tap.first)) * 1000,
      state,
      rate: bytes / seconds,
      seconds,
      rssGrowth: rssPeak - rssBefore,
      tabGrowth: tabPeak - tabBefore,
      tabBefore,
      heapGrowth: heapPeak - heapBefore,
      rssBefore,
      sha256: hash.digest('hex'),
    };
  } finally {
    await Promise.all([closePeer(sender), closePeer(receiver)]);
    await gateway.stop();
    await presence.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const mibArg = args.indexOf('--mib');
  // Bounded: between 16 MiB and 4 GiB.
  const mib = Math.min(4096, Math.max(16, mibArg >= 0 ? Number(args[mibArg + 1]) : 1024));
  const bytes = mib * MIB;
  const mb = (n: number) => (n / 1e6).toFixed(1);

  console.log(`raw ceiling: pushing ${mib} MiB between two Chromium processes…`);
  const raw = await rawCeiling(bytes);
  console.log(`  (a) raw ceiling: ${mb(raw)} MB/s`);
  console.log(
    `app: ${mib} MiB sender -> gateway-introduced receiver, written to disk and verified…`,
  );
  const app = await appTransfer(bytes, args.includes('--null-sink'), args.includes('--profile'));
  console.log(
    `  (b) app: ${mb(app.rate)} MB/s (${app.seconds.toFixed(1)} s, click to verified; file ${app.state})`,
  );
  console.log(`  (b)/(a) = ${(app.rate / raw).toFixed(2)}`);
  console.log(
    `  app, first to last byte on the wire only: ${mb(app.wireRate)} MB/s (${(app.wireRate / raw).toFixed(2)} of raw)`,
  );
  console.log(
    `  receiver memory growth (peak - before): tab (renderer RSS) +${mb(app.tabGrowth)} MB (from ${mb(app.tabBefore)} MB); ` +
      `whole Chromium tree +${mb(app.rssGrowth)} MB (from ${mb(app.rssBefore)} MB); JS heap +${mb(app.heapGrowth)} MB`,
  );
  console.log(
    JSON.stringify({
      mib,
      rawBytesPerSecond: raw,
      appBytesPerSecond: app.rate,
      ratio: app.rate / raw,
      receiverTabRssGrowthBytes: app.tabGrowth,
      receiverTreeRssGrowthBytes: app.rssGrowth,
      receiverHeapGrowthBytes: app.heapGrowth,
      verified: app.state === 'verified',
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
