import { BrowserPeers } from './browser-peer';
import { ShareStack, startShareStack } from './share-stack';
import { TestFiles } from './test-files';

/** What a browser spec of one share stack uses; valid inside its tests. */
export interface ShareSuite {
  readonly stack: ShareStack;
  readonly files: TestFiles;
  readonly browsers: BrowserPeers;
}

/**
 * Registers the usual hooks of a browser spec: one presence + gateway stack
 * and a folder of test files for the file, each test's browsers closed after
 * it, everything stopped at the end.
 */
/** `gatewayEnv`: read when the stack starts, so it may name what another beforeAll started. */
export function shareSuite(gatewayEnv: () => Record<string, string> = () => ({})): ShareSuite {
  let stack: ShareStack | undefined;
  let files: TestFiles | undefined;
  const browsers = new BrowserPeers();
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
