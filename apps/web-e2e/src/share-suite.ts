import { BrowserPeers, Peers, TestFiles } from '@ephemeral/browser-testing';
import { ShareStack, startShareStack } from './share-stack';

/** What a browser spec of one share stack uses; valid inside its tests. */
export interface ShareSuite<B = BrowserPeers> {
  readonly stack: ShareStack;
  readonly files: TestFiles;
  readonly browsers: B;
}

/** `gatewayEnv`: read when the stack starts, so it may name what another beforeAll started. */
type GatewayEnv = () => Record<string, string>;

/**
 * Registers the usual hooks of a browser spec: one presence + gateway stack
 * and a folder of test files for the file, each test's browsers closed after
 * it, everything stopped at the end. Chromium only (BrowserPeer).
 */
export function shareSuite(gatewayEnv: GatewayEnv = () => ({})): ShareSuite {
  return suiteOf(new BrowserPeers(), gatewayEnv);
}

/** The same hooks for a spec whose peers run in either engine (Chromium or Firefox). */
export function enginesSuite(gatewayEnv: GatewayEnv = () => ({})): ShareSuite<Peers> {
  return suiteOf(new Peers(), gatewayEnv);
}

function suiteOf<B extends { closeAll(): Promise<void> }>(
  browsers: B,
  gatewayEnv: GatewayEnv,
): ShareSuite<B> {
  let stack: ShareStack | undefined;
  let files: TestFiles | undefined;
  beforeAll(async () => {
    stack = await startShareStack(gatewayEnv());
    files = new TestFiles();
  });
  afterEach(() => browsers.closeAll());
  afterAll(async () => {
    await stack?.stop();
    files?.remove();
  });
  const started = <T>(value: T | undefined, name: string): T => {
    if (value === undefined) throw new Error(`${name} is only there inside a test`);
    return value;
  };
  return {
    get stack() {
      return started(stack, 'the share stack');
    },
    get files() {
      return started(files, 'the test files');
    },
    browsers,
  };
}
