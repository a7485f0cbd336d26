import { TestFiles } from '@ephemeral/browser-testing';

import { LabPeers } from './lab-browsers';
import { LabRelay, LabStack, startLabStack } from './lab-stack';
import { NETLAB_SETUP_TIMEOUT_MS, NetLab } from './netlab';

/** What a lab spec uses; valid inside its tests. */
export interface LabSuite {
  readonly lab: NetLab;
  readonly stack: LabStack;
  readonly files: TestFiles;
  readonly peers: LabPeers;
  /** Stops presence and the gateway and starts them again handing out `relay`. */
  restartStack(relay: LabRelay): Promise<void>;
}

/**
 * Registers the hooks of a lab spec: the lab built from nothing, presence and
 * the gateway in its wan (`relay`: what the gateway hands out for ICE), a
 * folder of test files; after each test its browsers closed and every
 * namespace's guard counter read (0: nothing left the lab); at the end
 * everything torn down, also when a hook failed.
 */
export function labSuite(relay: LabRelay = 'turn'): LabSuite {
  let lab: NetLab | undefined;
  let stack: LabStack | undefined;
  let files: TestFiles | undefined;
  const started = <T>(value: T | undefined, name: string): T => {
    if (value === undefined) throw new Error(`${name} is only there inside a test`);
    return value;
  };
  const peers = new LabPeers(() => started(lab, 'the lab'));
  beforeAll(async () => {
    lab = await NetLab.up();
    stack = await startLabStack(lab, relay);
    files = new TestFiles();
  }, NETLAB_SETUP_TIMEOUT_MS);
  afterEach(async () => {
    await peers.closeAll();
    if (!lab) return;
    await lab.mode('open');
    // Nothing the test did sent a packet out of 198.18.0.0/15.
    const guard = await lab.guard();
    expect(guard).toEqual(Object.fromEntries(Object.keys(guard).map((ns) => [ns, 0])));
  });
  afterAll(async () => {
    await stack?.stop();
    files?.remove();
    await lab?.down();
  }, 60_000);
  return {
    get lab() {
      return started(lab, 'the lab');
    },
    get stack() {
      return started(stack, 'the lab stack');
    },
    get files() {
      return started(files, 'the test files');
    },
    peers,
    async restartStack(next: LabRelay) {
      await stack?.stop();
      stack = undefined;
      stack = await startLabStack(started(lab, 'the lab'), next);
    },
  };
}
