/**
 * Screenshots of the main states, light and dark, desktop and phone, into
 * docs/screenshots/<state>-<device>-<scheme>.png: the built web app served by
 * the real gateway (+ presence), a sender and a receiver in headless
 * Chromium, a real transfer.
 *
 * Usage: tools/screenshots/run.sh take
 * Build first: npx nx run-many -t build -p web gateway presence
 */
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';

import { startAppStack } from '@ephemeral/browser-testing';
import { CHROMIUM_ARGS, CHROMIUM_PATH, workspaceRoot } from '@ephemeral/testing';

const OUT = join(workspaceRoot, 'docs/screenshots');
const DEVICES = {
  desktop: { width: 1100, height: 800 },
  phone: { width: 390, height: 844 },
} as const;
const SCHEMES = ['light', 'dark'] as const;
const MB = 1024 * 1024;

// The File System Access pickers, answered with origin-private folders (as
// in the browser suite): headless Chromium cannot click through them.
const PICKER_STUB = `(() => {
  let n = 0;
  const folder = async () => (await navigator.storage.getDirectory()).getDirectoryHandle('shots-' + (++n), { create: true });
  window.showDirectoryPicker = async () => folder();
  window.showSaveFilePicker = async (o) => (await folder()).getFileHandle((o && o.suggestedName) || 'f', { create: true });
})();`;

/** Writes `page` as it is now in every device size and colour scheme. */
async function shoot(page: Page, state: string): Promise<void> {
  for (const [device, viewport] of Object.entries(DEVICES)) {
    await page.setViewportSize(viewport);
    for (const scheme of SCHEMES) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
      const file = `${state}-${device}-${scheme}.png`;
      writeFileSync(join(OUT, file), await page.screenshot({ fullPage: true }));
      console.log(`docs/screenshots/${file}`);
    }
  }
  await page.setViewportSize(DEVICES.desktop);
  await page.emulateMedia({ colorScheme: 'light' });
}

function sampleFiles(root: string): string[] {
  const block = Buffer.alloc(4 * MB);
  const write = (name: string, bytes: number) => {
    const path = join(root, name);
    // Zeros cost no randomness; the transfer is real all the same.
    const fd = openSync(path, 'w');
    for (let left = bytes; left > 0; left -= block.length)
      writeSync(fd, block, 0, Math.min(block.length, left));
    closeSync(fd);
    return path;
  };
  return [
    write('holiday-photos-2026-summer-IMG_0142.jpg', 3 * MB),
    write('quarterly-report-final-v3.pdf', 900 * 1024),
    write('dataset.tar', 300 * MB),
  ];
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'screenshots-'));
  const stack = await startAppStack();
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
    });
    const senderContext = await browser.newContext({ viewport: DEVICES.desktop });
    const receiverContext = await browser.newContext({ viewport: DEVICES.desktop });
    await receiverContext.addInitScript(PICKER_STUB);
    const sender = await senderContext.newPage();
    const receiver = await receiverContext.newPage();

    await sender.goto(stack.origin + '/');
    await sender.locator('[data-testid=first-run]').waitFor();
    await shoot(sender, 'send-first-visit');

    const files = sampleFiles(work);
    await sender.setInputFiles('[data-testid=file-input]', files);
    const link = sender.locator('[data-testid=share-link]');
    await link.waitFor({ timeout: 15_000 });
    await sender.click('[data-testid=first-run-close]');

    await receiver.goto(await link.inputValue());
    await receiver
      .locator('[data-testid=receive-state][data-state=ready]')
      .waitFor({ state: 'attached', timeout: 30_000 });

    // The small files first, then the big one while it is under way.
    for (const name of [
      'holiday-photos-2026-summer-IMG_0142.jpg',
      'quarterly-report-final-v3.pdf',
    ]) {
      await receiver.click(`[data-file="${name}"] [data-testid=download-file]`);
      await receiver
        .locator(`[data-file="${name}"][data-state=verified]`)
        .waitFor({ timeout: 60_000 });
    }
    await receiver.click('[data-file="dataset.tar"] [data-testid=download-file]');
    await receiver
      .locator('[data-file="dataset.tar"][data-state=downloading]')
      .waitFor({ timeout: 30_000 });
    await sender
      .locator('[data-testid=receivers] li[data-state=transferring]')
      .waitFor({ timeout: 30_000 });
    await shoot(sender, 'send-receiver-downloading');
    await shoot(receiver, 'receive-downloading');
    await receiver
      .locator('[data-file="dataset.tar"][data-state=verified]')
      .waitFor({ timeout: 300_000 });
    await shoot(receiver, 'receive-done');

    await sender.close({ runBeforeUnload: false });
    await receiver
      .locator('[data-testid=receive-state][data-state=sender-left]')
      .waitFor({ state: 'attached', timeout: 30_000 });
    await shoot(receiver, 'receive-sender-left');
  } finally {
    await browser?.close();
    await stack.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
