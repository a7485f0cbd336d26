import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import puppeteer, { type Browser, type ElementHandle, type Page } from 'puppeteer-core';

import { sleep } from '@ephemeral/testing';

import { CHANNEL_TAP } from './browser-peer';
import { FIREFOX_PATH, firefoxPrefs } from './firefox-prefs';
import type { Peer } from './peer';

/** Every file below `dir`, as paths relative to it. */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

/** A download Firefox finished, as WebDriver BiDi's `browsingContext.downloadEnd` reports it. */
export interface FinishedDownload {
  /** The URL downloaded (a streamed one is `<origin>/__download/<id>`). */
  readonly url: string;
  /** Where it was saved; absent when the download was canceled. */
  readonly filepath?: string;
  readonly status: 'complete' | 'canceled';
}

/** puppeteer's BiDi Browser keeps its protocol connection out of the public type. */
interface BidiEvents {
  on(event: string, handler: (params: unknown) => void): unknown;
}

/** Where and how Firefox runs, for suites that launch it elsewhere (the network lab). */
export interface FirefoxLaunchOptions {
  /** An executable to start instead of FIREFOX_PATH (e.g. a wrapper entering a network namespace). */
  executablePath?: string;
  /** Preferences on top of firefoxPrefs(). */
  extraPrefs?: Record<string, unknown>;
  /** The WebDriver BiDi port (default: one Firefox picks). */
  debuggingPort?: number;
  /** A profile prepared beforehand (e.g. with a CA in its certificate store); the caller removes it. */
  userDataDir?: string;
}

/**
 * One user's Firefox: its own process, profile (puppeteer's, removed on
 * close) and download folder. Firefox has no File System Access pickers, so
 * a receiver saves through the app's service-worker stream: each download
 * lands in `downloadDir` without a dialog (see firefoxPrefs).
 */
export class FirefoxPeer implements Peer {
  readonly engine = 'firefox';
  /** Every download that ended, in order. */
  readonly finished: FinishedDownload[] = [];

  private constructor(
    readonly name: string,
    readonly browser: Browser,
    readonly page: Page,
    readonly downloadDir: string,
  ) {}

  /** Starts Firefox headless (about 6 s on two cores). */
  static async launch(name: string, options: FirefoxLaunchOptions = {}): Promise<FirefoxPeer> {
    const downloadDir = mkdtempSync(join(tmpdir(), `web-e2e-${name}-downloads-`));
    let browser: Browser | undefined;
    try {
      browser = await puppeteer.launch({
        browser: 'firefox',
        protocol: 'webDriverBiDi',
        executablePath: options.executablePath ?? FIREFOX_PATH,
        headless: true,
        extraPrefsFirefox: { ...firefoxPrefs(downloadDir), ...options.extraPrefs },
        ...(options.debuggingPort ? { debuggingPort: options.debuggingPort } : {}),
        ...(options.userDataDir ? { userDataDir: options.userDataDir } : {}),
        timeout: 60_000,
      });
      const page = (await browser.pages())[0] ?? (await browser.newPage());
      page.setDefaultTimeout(30_000);
      await page.evaluateOnNewDocument(CHANNEL_TAP);
      const peer = new FirefoxPeer(name, browser, page, downloadDir);
      // puppeteer subscribes to every browsingContext event; it just does
      // not surface the download ones.
      const { connection } = browser as unknown as { connection?: BidiEvents };
      if (!connection) throw new Error('puppeteer-core no longer exposes its BiDi connection');
      connection.on('browsingContext.downloadEnd', (params) =>
        peer.finished.push(params as FinishedDownload),
      );
      return peer;
    } catch (error) {
      await browser?.close().catch(() => undefined);
      rmSync(downloadDir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Loads `url` afresh, by way of about:blank: once a page streamed a
   * download (a frame the service worker answered with an attachment),
   * puppeteer's BiDi `goto` from that page never sees the next load and
   * times out although the page loaded. Leaving it for about:blank first
   * avoids that, and the same link opened twice is a new load, not a jump
   * to the fragment.
   */
  async goto(url: string): Promise<void> {
    if (this.page.url() !== 'about:blank') await this.page.goto('about:blank');
    await this.page.goto(url);
  }

  click(selector: string): Promise<void> {
    return this.page.click(selector);
  }

  async pickFiles(selector: string, paths: readonly string[]): Promise<void> {
    const input = (await this.page.waitForSelector(selector)) as ElementHandle<HTMLInputElement>;
    await input.uploadFile(...paths);
    await input.dispose();
  }

  /**
   * Firefox's WebDriver BiDi `input.setFiles` takes files only (a directory
   * fails with NS_ERROR_FILE_IS_DIRECTORY), so a folder pick is rebuilt: the
   * folder's files are set on a helper input by BiDi, each gets the
   * `webkitRelativePath` (`<folder>/<path>`) a real folder pick gives it,
   * and they become the folder input's files with the `change` event a pick
   * fires. The app's own pick handler runs unchanged.
   */
  async pickFolder(selector: string, dir: string): Promise<void> {
    const below = filesBelow(dir);
    await this.page.evaluate(() => {
      const helper = document.createElement('input');
      helper.type = 'file';
      helper.multiple = true;
      helper.id = 'e2e-folder-helper';
      document.body.appendChild(helper);
    });
    await this.pickFiles(
      '#e2e-folder-helper',
      below.map((path) => join(dir, path)),
    );
    await this.page.evaluate(
      (target, paths) => {
        const helper = document.getElementById('e2e-folder-helper') as HTMLInputElement;
        const picked = new DataTransfer();
        [...(helper.files ?? [])].forEach((file, i) => {
          Object.defineProperty(file, 'webkitRelativePath', { value: paths[i] });
          picked.items.add(file);
        });
        helper.remove();
        const input = document.querySelector(target) as HTMLInputElement;
        input.files = picked.files;
        input.dispatchEvent(new Event('input', { bubbles: true }));
        input.dispatchEvent(new Event('change', { bubbles: true }));
      },
      selector,
      below.map((path) => `${basename(dir)}/${path}`),
    );
  }

  async waitForSelector(selector: string, timeoutMs: number): Promise<void> {
    await this.page.waitForSelector(selector, { timeout: timeoutMs });
  }

  inputValue(selector: string): Promise<string> {
    return this.page.$eval(selector, (el) => (el as HTMLInputElement).value);
  }

  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R> {
    return this.page.evaluate(fn as (arg: unknown) => R, arg) as Promise<R>;
  }

  async waitForFunction<A>(fn: (arg: A) => unknown, arg: A, timeoutMs: number): Promise<void> {
    await this.page.waitForFunction(
      fn as (arg: unknown) => unknown,
      { timeout: timeoutMs, polling: 250 },
      arg,
    );
  }

  /**
   * Waits until `count` downloads ended (Firefox reports each when the file
   * is in place, renamed from its `.part`); returns them in order. Throws
   * if one was canceled.
   */
  async downloads(count: number, timeoutMs = 60_000): Promise<FinishedDownload[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.finished.length < count) {
      if (Date.now() > deadline)
        throw new Error(
          `${this.name}: ${count} downloads expected in ${timeoutMs} ms, ${this.finished.length} ended ` +
            `(in ${this.downloadDir}: ${readdirSync(this.downloadDir).join(', ')})`,
        );
      await sleep(200);
    }
    const canceled = this.finished.filter((d) => d.status !== 'complete');
    if (canceled.length > 0)
      throw new Error(`${this.name}: canceled downloads ${canceled.map((d) => d.url).join(', ')}`);
    return this.finished.slice(0, count);
  }

  dataBytes(): Promise<number> {
    return this.page.evaluate(
      () => (window as unknown as { __e2e: { dataBytes: number } }).__e2e.dataBytes,
    );
  }

  async cutChannels(): Promise<void> {
    await this.page.evaluate(() => {
      for (const channel of (window as unknown as { __e2e: { channels: RTCDataChannel[] } }).__e2e
        .channels)
        channel.close();
    });
  }

  /** SHA-256 of the first `count` finished downloads, by file name (read from disk). */
  async downloadHashes(count: number, timeoutMs?: number): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const { filepath } of await this.downloads(count, timeoutMs))
      out[basename(filepath!)] = await sha256File(this.inDownloadDir(filepath!));
    return out;
  }

  /** `filepath`, checked to lie in this peer's download folder. */
  inDownloadDir(filepath: string): string {
    if (dirname(filepath) !== this.downloadDir || !existsSync(filepath))
      throw new Error(`${this.name}: ${filepath} is not a download in ${this.downloadDir}`);
    return filepath;
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    rmSync(this.downloadDir, { recursive: true, force: true });
  }
}
