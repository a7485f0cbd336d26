import type { Peer } from './peer';

// pages.ts for a Peer of either engine (pages.ts drives Playwright pages).

/** Drives the sender page: add files and/or a folder, read the share link. */
export async function shareFrom(
  peer: Peer,
  origin: string,
  files: readonly string[],
  folder?: string,
): Promise<string> {
  await peer.goto(origin + '/');
  if (files.length > 0) await peer.pickFiles('[data-testid=file-input]', files);
  if (folder) await peer.pickFolder('[data-testid=folder-input]', folder);
  await peer.waitForSelector('[data-testid=share-link]', 15_000);
  // The link appears once the page is registered with the gateway.
  await peer.waitForFunction(
    () => !!(document.querySelector('[data-testid=share-link]') as HTMLInputElement)?.value,
    undefined,
    15_000,
  );
  return peer.inputValue('[data-testid=share-link]');
}

/** Waits for the receiver page's state (`data-state` of the status element). */
export function receiveState(peer: Peer, state: string, timeoutMs = 30_000): Promise<void> {
  return peer.waitForSelector(`[data-testid=receive-state][data-state=${state}]`, timeoutMs);
}

/** The paths the receiver page lists, sorted. */
export async function listedFiles(peer: Peer): Promise<string[]> {
  const listed = await peer.evaluate(() =>
    [...document.querySelectorAll('[data-testid=file-list] li')].map(
      (li) => li.getAttribute('data-file') ?? '',
    ),
  );
  return listed.sort();
}

/** Waits until `count` listed files reached a final state; returns path -> state. */
export async function filesSettled(
  peer: Peer,
  count: number,
  timeoutMs: number,
): Promise<Record<string, string>> {
  await peer.waitForFunction(
    (n) =>
      [...document.querySelectorAll('[data-testid=file-list] li')].filter((li) =>
        ['verified', 'failed', 'cancelled'].includes(li.getAttribute('data-state') ?? ''),
      ).length >= n,
    count,
    timeoutMs,
  );
  return peer.evaluate(() => {
    const out: Record<string, string> = {};
    for (const li of document.querySelectorAll('[data-testid=file-list] li'))
      out[li.getAttribute('data-file') ?? ''] = li.getAttribute('data-state') ?? '';
    return out;
  });
}
