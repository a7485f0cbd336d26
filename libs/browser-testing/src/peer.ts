import { BrowserPeer } from './browser-peer';
import { cutChannels, dataBytes, savedFileHashes } from './pages';
import { FirefoxPeer } from './firefox-peer';

/** The browser engines a peer can run in. */
export type Engine = 'chromium' | 'firefox';

/**
 * What a spec does with one user's browser, whichever engine runs it:
 * Chromium through playwright-core (BrowserPeer), Firefox through
 * puppeteer-core over WebDriver BiDi (FirefoxPeer). Selectors are CSS.
 */
export interface Peer {
  readonly engine: Engine;
  readonly name: string;
  goto(url: string): Promise<void>;
  click(selector: string): Promise<void>;
  /** Picks `paths` (files) in the `<input type=file>` at `selector`, as a user would. */
  pickFiles(selector: string, paths: readonly string[]): Promise<void>;
  /** Picks the folder `dir` in the `<input type=file webkitdirectory>` at `selector`. */
  pickFolder(selector: string, dir: string): Promise<void>;
  /** Resolves once an element matches `selector` (attached, visible or not). */
  waitForSelector(selector: string, timeoutMs: number): Promise<void>;
  inputValue(selector: string): Promise<string>;
  /** Runs `fn(arg)` in the page; `fn` must not close over anything. */
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R>;
  /** Polls `fn(arg)` in the page every 250 ms until it returns something truthy. */
  waitForFunction<A>(fn: (arg: A) => unknown, arg: A, timeoutMs: number): Promise<void>;
  /** Bytes that arrived on this page's "data" channels so far (the channel tap). */
  dataBytes(): Promise<number>;
  /** Closes this page's data channels: to both peers, the connection dropped. */
  cutChannels(): Promise<void>;
  close(): Promise<void>;
}

/** A Chromium BrowserPeer (playwright-core) behind the engine-neutral surface. */
export class ChromiumPeer implements Peer {
  readonly engine = 'chromium';

  constructor(
    readonly name: string,
    readonly browser: BrowserPeer,
  ) {}

  get page() {
    return this.browser.page;
  }

  async goto(url: string): Promise<void> {
    await this.page.goto(url);
  }

  click(selector: string): Promise<void> {
    return this.page.click(selector);
  }

  pickFiles(selector: string, paths: readonly string[]): Promise<void> {
    return this.page.setInputFiles(selector, [...paths]);
  }

  pickFolder(selector: string, dir: string): Promise<void> {
    return this.page.setInputFiles(selector, dir);
  }

  async waitForSelector(selector: string, timeoutMs: number): Promise<void> {
    await this.page.locator(selector).first().waitFor({ state: 'attached', timeout: timeoutMs });
  }

  inputValue(selector: string): Promise<string> {
    return this.page.locator(selector).inputValue();
  }

  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R> {
    return this.page.evaluate(fn as (arg: unknown) => R | Promise<R>, arg as unknown);
  }

  async waitForFunction<A>(fn: (arg: A) => unknown, arg: A, timeoutMs: number): Promise<void> {
    await this.page.waitForFunction(fn as (arg: unknown) => unknown, arg as unknown, {
      timeout: timeoutMs,
      polling: 250,
    });
  }

  dataBytes(): Promise<number> {
    return dataBytes(this.page);
  }

  cutChannels(): Promise<void> {
    return cutChannels(this.page);
  }

  /** SHA-256 of every file saved through the stubbed pickers (picker mode only). */
  savedFileHashes(): Promise<Record<string, string>> {
    return savedFileHashes(this.page);
  }

  close(): Promise<void> {
    return this.browser.close();
  }
}

/** The browsers a suite launched, in either engine, so each test's can be closed after it. */
export class Peers {
  private readonly open: Peer[] = [];

  /** `saving`: as BrowserPeer.launch ('picker' saves into the origin private file system). */
  async chromium(name: string, saving: 'picker' | 'download' = 'picker'): Promise<ChromiumPeer> {
    return this.track(new ChromiumPeer(name, await BrowserPeer.launch(name, saving)));
  }

  async firefox(name: string): Promise<FirefoxPeer> {
    return this.track(await FirefoxPeer.launch(name));
  }

  private track<P extends Peer>(peer: P): P {
    this.open.push(peer);
    return peer;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.open.splice(0).map((peer) => peer.close()));
  }
}
