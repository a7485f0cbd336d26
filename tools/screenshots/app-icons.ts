/**
 * Renders the installable app's PNG icons (what Chromium's install check and
 * Android's launcher want) from apps/web/public/icons/app-icon.svg, in the
 * same headless Chromium the browser suite uses. The SVG is the source; the
 * PNGs are committed so the build needs no browser.
 *
 * Usage: tools/screenshots/run.sh app-icons
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

import { CHROMIUM_ARGS, CHROMIUM_PATH, workspaceRoot } from '@ephemeral/testing';

const ICONS = join(workspaceRoot, 'apps/web/public/icons');

// `maskable`: the launcher cuts the icon to its own shape and keeps only the
// middle 80 %, so the artwork shrinks into that safe zone on a full-bleed
// background.
const OUTPUTS = [
  { file: 'icon-192.png', size: 192, scale: 1 },
  { file: 'icon-512.png', size: 512, scale: 1 },
  { file: 'icon-maskable-512.png', size: 512, scale: 0.72 },
];

async function main(): Promise<void> {
  const svg = readFileSync(join(ICONS, 'app-icon.svg'), 'utf8');
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
  });
  try {
    for (const { file, size, scale } of OUTPUTS) {
      const page = await browser.newPage({ viewport: { width: size, height: size } });
      const inset = (size * (1 - scale)) / 2;
      await page.setContent(
        `<body style="margin:0;background:#3b5bdb">` +
          `<div style="position:absolute;left:${inset}px;top:${inset}px;width:${size * scale}px;height:${size * scale}px">` +
          svg.replace('<svg ', '<svg width="100%" height="100%" ') +
          `</div></body>`,
      );
      writeFileSync(join(ICONS, file), await page.screenshot({ type: 'png' }));
      await page.close();
      console.log(`wrote ${join('apps/web/public/icons', file)} (${size}×${size})`);
    }
  } finally {
    await browser.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
