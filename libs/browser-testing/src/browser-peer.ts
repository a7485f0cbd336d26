import { BrowserContext, chromium, Page } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@ephemeral/testing';

/**
 * Headless Chromium cannot click through the File System Access pickers, so
 * the receiver's pickers are replaced by ones that hand out folders of the
 * origin private file system. The app's real disk path (createWritable,
 * folders, resume) runs unchanged; only the user's choice of folder is
 * stubbed. Each call gets a fresh folder under /downloads-<n>.
 */
const PICKER_STUB = `(() => {
  let n = 0;
  const folder = async () => {
    const root = await navigator.storage.getDirectory();
    return root.getDirectoryHandle('downloads-' + (++n), { create: true });
  };
  window.showDirectoryPicker = async () => folder();
  window.showSaveFilePicker = async (options) => (await folder()).getFileHandle((options && options.suggestedName) || 'download', { create: true });
})();`;

/** A browser without the File System Access API (Firefox, Safari): the app falls back to the service-worker stream. */
const NO_FILE_SYSTEM_ACCESS = `(() => {
  for (const name of ['showSaveFilePicker', 'showDirectoryPicker', 'showOpenFilePicker']) {
    delete window[name];
    delete Window.prototype[name];
  }
})();`;

/**
 * Counts the bytes arriving on the "data" channel and lets a test cut the
 * peer connection's channels (a dropped connection) from outside. Plain
 * DOM, so Firefox (FirefoxPeer) runs the same script.
 */
export const CHANNEL_TAP = `(() => {
  const channels = [];
  window.__e2e = { dataBytes: 0, channels, corruptNext: false };
  const create = RTCPeerConnection.prototype.createDataChannel;
  RTCPeerConnection.prototype.createDataChannel = function (...args) {
    const channel = create.apply(this, args);
    channels.push(channel);
    if (channel.label === 'data') {
      channel.addEventListener('message', (e) => {
        window.__e2e.dataBytes += e.data.byteLength || 0;
        // A test may ask for the next chunk to arrive corrupted (one payload
        // byte flipped, after the 4-byte header) before the app reads it.
        if (window.__e2e.corruptNext && e.data.byteLength > 4) {
          window.__e2e.corruptNext = false;
          new Uint8Array(e.data)[4] ^= 0xff;
        }
      });
    }
    return channel;
  };
})();`;

/** Where and how Chromium runs, for suites that launch it elsewhere (the network lab). */
export interface ChromiumLaunchOptions {
  /** An executable to start instead of CHROMIUM_PATH (e.g. a wrapper entering a network namespace). */
  executablePath?: string;
  /** Flags added to CHROMIUM_ARGS. */
  extraArgs?: readonly string[];
}

/** One user's browser: its own Chromium process and on-disk profile. */
export class BrowserPeer {
  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    private readonly profileDir: string,
  ) {}

  /**
   * `saving`: 'picker' stubs the File System Access pickers with private
   * folders; 'download' removes that API so files arrive as browser downloads.
   */
  static async launch(
    name: string,
    saving: 'picker' | 'download' = 'picker',
    options: ChromiumLaunchOptions = {},
  ): Promise<BrowserPeer> {
    const profileDir = mkdtempSync(join(tmpdir(), `web-e2e-${name}-`));
    const context = await chromium.launchPersistentContext(profileDir, {
      executablePath: options.executablePath ?? CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(options.extraArgs ?? [])],
      acceptDownloads: true,
    });
    await context.addInitScript(saving === 'picker' ? PICKER_STUB : NO_FILE_SYSTEM_ACCESS);
    await context.addInitScript(CHANNEL_TAP);
    const page = context.pages()[0] ?? (await context.newPage());
    return new BrowserPeer(context, page, profileDir);
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
    rmSync(this.profileDir, { recursive: true, force: true });
  }
}

export type { Page };

/** The browsers a suite launched, so each test's can be closed after it. */
export class BrowserPeers {
  private readonly open: BrowserPeer[] = [];

  async launch(name: string, saving: 'picker' | 'download' = 'picker'): Promise<BrowserPeer> {
    const peer = await BrowserPeer.launch(name, saving);
    this.open.push(peer);
    return peer;
  }

  /** Takes a peer launched with its own options, to close it with the rest. */
  adopt(peer: BrowserPeer): BrowserPeer {
    this.open.push(peer);
    return peer;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.open.splice(0).map((peer) => peer.close()));
  }
}
