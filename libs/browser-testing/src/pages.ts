import { Page } from 'playwright-core';

/** Drives the sender page: add files, read the share link. */
export async function shareFiles(
  page: Page,
  origin: string,
  files: string[],
  folder?: string,
): Promise<string> {
  await page.goto(origin + '/');
  if (files.length > 0) await page.setInputFiles('[data-testid=file-input]', files);
  if (folder) await page.setInputFiles('[data-testid=folder-input]', folder);
  const link = page.locator('[data-testid=share-link]');
  await link.waitFor({ timeout: 15_000 });
  return link.inputValue();
}

/** The receiver page's state (`data-state` of the status element). */
export async function waitForReceiveState(
  page: Page,
  state: string,
  timeoutMs = 30_000,
): Promise<void> {
  await page
    .locator(`[data-testid=receive-state][data-state=${state}]`)
    .waitFor({ state: 'attached', timeout: timeoutMs });
}

/** Waits until every listed file reached a final state; returns path -> state. */
export async function waitForFilesSettled(
  page: Page,
  count: number,
  timeoutMs: number,
): Promise<Record<string, string>> {
  await page.waitForFunction(
    (n) => {
      const items = [...document.querySelectorAll('[data-testid=file-list] li')];
      const settled = items.filter((li) =>
        ['verified', 'failed', 'cancelled'].includes(li.getAttribute('data-state') ?? ''),
      );
      return settled.length >= n;
    },
    count,
    { timeout: timeoutMs, polling: 250 },
  );
  return page.evaluate(() => {
    const out: Record<string, string> = {};
    for (const li of document.querySelectorAll('[data-testid=file-list] li')) {
      out[li.getAttribute('data-file') ?? ''] = li.getAttribute('data-state') ?? '';
    }
    return out;
  });
}

/**
 * SHA-256 (hex) of every file the receiver wrote into the origin private file
 * system (where the stubbed pickers point), keyed by path below the picked
 * folder. Read back from disk with the browser's own digest, not the app's.
 */
export async function savedFileHashes(page: Page): Promise<Record<string, string>> {
  return page.evaluate(async () => {
    const out: Record<string, string> = {};
    const hex = (buf: ArrayBuffer) =>
      [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
    type Dir = FileSystemDirectoryHandle & { entries(): AsyncIterable<[string, FileSystemHandle]> };
    const walk = async (dir: Dir, prefix: string) => {
      for await (const [name, handle] of dir.entries()) {
        const path = prefix ? `${prefix}/${name}` : name;
        if (handle.kind === 'directory') await walk(handle as Dir, path);
        else
          out[path] = hex(
            await crypto.subtle.digest(
              'SHA-256',
              await (await (handle as FileSystemFileHandle).getFile()).arrayBuffer(),
            ),
          );
      }
    };
    const root = (await navigator.storage.getDirectory()) as Dir;
    for await (const [name, handle] of root.entries()) {
      if (handle.kind === 'directory' && name.startsWith('downloads-'))
        await walk(handle as Dir, '');
    }
    return out;
  });
}

/** Bytes that arrived on the receiver's data channels so far. */
export function dataBytes(page: Page): Promise<number> {
  return page.evaluate(
    () => (window as unknown as { __e2e: { dataBytes: number } }).__e2e.dataBytes,
  );
}

/** Resolves once more than `bytes` arrived on the receiver's data channels. */
export async function waitForDataBytes(page: Page, bytes: number): Promise<void> {
  await page.waitForFunction(
    (n) => (window as unknown as { __e2e: { dataBytes: number } }).__e2e.dataBytes > n,
    bytes,
    { timeout: 60_000, polling: 50 },
  );
}

/** Closes the receiver's data channels: to both peers, the connection dropped. */
export function cutChannels(page: Page): Promise<void> {
  return page.evaluate(() => {
    for (const channel of (window as unknown as { __e2e: { channels: RTCDataChannel[] } }).__e2e
      .channels)
      channel.close();
  });
}
