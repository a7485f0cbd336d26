import { type Peer, shareFrom } from '@ephemeral/browser-testing';

import type { LabSuite } from './lab-suite';

/**
 * How long a receiver may try before it must show "could not connect": the
 * app dials a first connection up to 3 times within 45 s (its retry and
 * ICE-restart budget); the rest is a loaded two-core machine's slack.
 */
export const FAILURE_WITHIN_MS = 90_000;

/**
 * Shares a file from LAN A, opens the link in LAN B and waits for the
 * receiver's failure screen; returns its cause and how long it took.
 */
export async function receiverFailure(
  suite: LabSuite,
): Promise<{ receiver: Peer; cause: string; afterMs: number }> {
  const { stack, files, peers } = suite;
  const path = files.create(`fail-${Date.now()}/one.bin`, 64 * 1024);
  const [sender, receiver] = await Promise.all([
    peers.chromium('a', 'fail-sender'),
    peers.chromium('b', 'fail-receiver'),
  ]);
  const link = await shareFrom(sender, stack.origin, [path]);
  const opened = Date.now();
  await receiver.goto(link);
  await receiver.waitForSelector('[data-testid=connect-failure]', FAILURE_WITHIN_MS);
  const afterMs = Date.now() - opened;
  const cause = await receiver.evaluate(
    () =>
      document.querySelector('[data-testid=connect-failure]')?.getAttribute('data-failure-cause') ??
      '',
  );
  return { receiver, cause, afterMs };
}
