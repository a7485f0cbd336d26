/**
 * The app as a user meets it, for the transfer benchmarks: the built web app
 * served by the real gateway (+ presence), and headless Chromium peers, each
 * its own process tree with its own profile (so /proc can tell them apart).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { type AppStack as SharedAppStack, startAppStack } from '@ephemeral/browser-testing';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@ephemeral/testing';
import { BrowserContext, chromium, Page } from 'playwright-core';

const BENCH_CHROMIUM_ARGS = [
  ...CHROMIUM_ARGS,
  // performance.memory otherwise reports coarse, bucketed values.
  '--enable-precise-memory-info',
];

export interface Peer {
  context: BrowserContext;
  page: Page;
  profile: string;
}

/**
 * How a receiver saves: `picker` stubs the File System Access pickers with
 * origin-private folders (the app's real disk path runs, as in the e2e
 * suite); `null` discards the bytes (separates disk cost from the rest);
 * `download` removes that API, so the app streams through its service
 * worker (one zip for several files) into a browser download.
 */
export type Saving = 'picker' | 'null' | 'download' | 'none';

const PICKER_STUB = `(() => {
  let n = 0;
  const folder = async () => (await navigator.storage.getDirectory()).getDirectoryHandle('bench-' + (++n), { create: true });
  window.showDirectoryPicker = async () => folder();
  window.showSaveFilePicker = async (o) => (await folder()).getFileHandle((o && o.suggestedName) || 'f', { create: true });
})();`;

const NULL_SINK_STUB = `(() => {
  const writable = { write: async () => undefined, close: async () => undefined, abort: async () => undefined };
  const file = { kind: 'file', createWritable: async () => writable, move: async () => undefined };
  const dir = { kind: 'directory', getDirectoryHandle: async () => dir, getFileHandle: async () => file, removeEntry: async () => undefined };
  window.showDirectoryPicker = async () => dir;
  window.showSaveFilePicker = async () => file;
})();`;

const NO_FILE_SYSTEM_ACCESS = `(() => {
  for (const name of ['showSaveFilePicker', 'showDirectoryPicker', 'showOpenFilePicker']) {
    delete window[name];
    delete Window.prototype[name];
  }
})();`;

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

const STUBS: Record<Saving, string> = {
  picker: PICKER_STUB,
  null: NULL_SINK_STUB,
  download: NO_FILE_SYSTEM_ACCESS,
  none: '',
};

export async function launch(name: string, saving: Saving = 'none'): Promise<Peer> {
  const profile = mkdtempSync(join(tmpdir(), `bench-${name}-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: BENCH_CHROMIUM_ARGS,
    acceptDownloads: saving === 'download',
  });
  if (STUBS[saving]) await context.addInitScript(STUBS[saving]);
  await context.addInitScript(DATA_TAP);
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page, profile };
}

export async function closePeer(peer: Peer): Promise<void> {
  await peer.context.close().catch(() => undefined);
  rmSync(peer.profile, { recursive: true, force: true });
}

/** Presence + gateway serving the built web app on a free loopback port. */
export class AppStack {
  private constructor(private readonly stack: SharedAppStack) {}

  get origin(): string {
    return this.stack.origin;
  }

  /**
   * `BENCH_WEB_ROOT` serves another build of the web app than
   * dist/apps/web/browser (one built with `--output-path`): two builds
   * measured one after the other, unaffected by a rebuild of dist/ meanwhile.
   */
  static async start(): Promise<AppStack> {
    const webRoot = process.env['BENCH_WEB_ROOT'];
    return new AppStack(
      await startAppStack(webRoot ? { gatewayEnv: { WEB_ROOT: resolve(webRoot) } } : {}),
    );
  }

  stop(): Promise<void> {
    return this.stack.stop();
  }
}

/** Opens the sender page, shares `files` (paths) and/or `folder`, returns the link. */
export async function share(
  sender: Peer,
  origin: string,
  files: string[],
  folder?: string,
): Promise<string> {
  await sender.page.goto(origin + '/');
  if (files.length > 0) await sender.page.setInputFiles('[data-testid=file-input]', files);
  if (folder) await sender.page.setInputFiles('[data-testid=folder-input]', folder);
  return sender.page.locator('[data-testid=share-link]').inputValue({ timeout: 60_000 });
}

/** Opens the link on the receiver and waits until the file list is ready. */
export async function openLink(receiver: Peer, link: string, timeoutMs = 60_000): Promise<void> {
  await receiver.page.goto(link);
  await receiver.page
    .locator('[data-testid=receive-state][data-state=ready]')
    .waitFor({ state: 'attached', timeout: timeoutMs });
}

/**
 * File states on the receiver's page: how many verified, failed and
 * cancelled (the overall section counts every file; the list renders only
 * its first rows), plus why the first failed row shown failed.
 */
export function fileStates(receiver: Peer): Promise<Record<string, number>> {
  return receiver.page.evaluate(() => {
    const out: Record<string, number> = {};
    const overall = document.querySelector('[data-testid=overall]');
    for (const state of ['verified', 'failed', 'cancelled']) {
      const n = Number(overall?.getAttribute(`data-${state}`) ?? 0);
      if (n > 0) out[state] = n;
    }
    const failed = document.querySelector('[data-testid=file-list] li[data-state=failed]');
    // The first failure's text says why (it counts as 1 under its own key).
    if (failed)
      out[`why: ${(failed.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 160)}`] = 1;
    return out;
  });
}

/**
 * Waits (polling twice a second, `onTick` each time) until all `count` files
 * are settled or `timeoutMs` passes; returns the state counts.
 */
export async function waitSettled(
  receiver: Peer,
  count: number,
  timeoutMs: number,
  onTick: () => Promise<void> | void = () => undefined,
): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs;
  let states: Record<string, number> = {};
  let reported = Date.now();
  while (Date.now() < deadline) {
    states = await fileStates(receiver);
    if (Date.now() - reported > 15_000) {
      reported = Date.now();
      console.log(`    … ${JSON.stringify(states)}`);
    }
    await onTick();
    const settled =
      (states['verified'] ?? 0) + (states['failed'] ?? 0) + (states['cancelled'] ?? 0);
    if (settled >= count) return states;
    await new Promise((r) => setTimeout(r, 500));
  }
  return states;
}

export function jsHeapBytes(peer: Peer): Promise<number> {
  return peer.page.evaluate(
    () => (performance as unknown as { memory: { usedJSHeapSize: number } }).memory.usedJSHeapSize,
  );
}
