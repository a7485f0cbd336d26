import type { Page } from 'playwright-core';
import { expectAccessible } from './axe';
import { shareFiles, waitForFilesSettled, waitForReceiveState } from '@ephemeral/browser-testing';
import { shareSuite } from './share-suite';

/** Resolves once the app's service worker controls `page` (after a reload if need be). */
async function controlledByWorker(page: Page): Promise<string> {
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  if (!(await page.evaluate(() => !!navigator.serviceWorker.controller))) await page.reload();
  await page.waitForFunction(() => !!navigator.serviceWorker.controller, undefined, {
    timeout: 15_000,
  });
  return page.evaluate(() => navigator.serviceWorker.controller!.scriptURL);
}

describe('web app: the installable app (manifest, service worker, share target)', () => {
  const suite = shareSuite();
  const browsers = suite.browsers;

  it("passes Chromium's install checks, with a share target, and one worker for the whole origin", async () => {
    const visitor = await browsers.launch('pwa-install');
    await visitor.page.goto(suite.stack.origin + '/');
    const script = await controlledByWorker(visitor.page);
    expect(script).toBe(`${suite.stack.origin}/download-sw.js`);
    const cdp = await visitor.context.newCDPSession(visitor.page);
    const manifest = (await cdp.send('Page.getAppManifest')) as {
      url: string;
      errors: unknown[];
      data?: string;
    };
    expect(manifest.url).toBe(`${suite.stack.origin}/manifest.webmanifest`);
    expect(manifest.errors).toEqual([]);
    const parsed = JSON.parse(manifest.data ?? '{}') as {
      share_target?: { action: string; params: { files: { name: string }[] } };
    };
    expect(parsed.share_target?.action).toBe('/share-target');
    expect(parsed.share_target?.params.files[0].name).toBe('files');
    // What Chrome's install prompt checks: manifest fields, icons that
    // load, a secure origin, a worker controlling the page.
    const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as {
      installabilityErrors: { errorId: string }[];
    };
    expect(installabilityErrors).toEqual([]);
    const registrations = await visitor.page.evaluate(async () =>
      (await navigator.serviceWorker.getRegistrations()).map((r) => r.scope),
    );
    expect(registrations).toEqual([`${suite.stack.origin}/`]);
  });

  it('"Share → Ephemeral Share" from a share sheet starts a share with those files', async () => {
    const sender = await browsers.launch('pwa-share-target');
    await sender.page.goto(suite.stack.origin + '/');
    await controlledByWorker(sender.page);
    // What Android's share sheet does for an installed app: a multipart
    // POST of the files (and any text) to the manifest's action.
    await sender.page.evaluate(() => {
      const form = document.createElement('form');
      form.method = 'POST';
      form.action = '/share-target';
      form.enctype = 'multipart/form-data';
      form.innerHTML =
        '<input type="file" name="files" multiple id="e2e-files"><input name="text" value="see you at 5">';
      document.body.append(form);
    });
    await sender.page.setInputFiles('#e2e-files', [
      { name: 'photo.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('not really a jpeg') },
    ]);
    await sender.page.evaluate(() => (document.querySelector('form') as HTMLFormElement).submit());
    const link = sender.page.locator('[data-testid=share-link]');
    await link.waitFor({ timeout: 15_000 });
    await sender.page.waitForFunction(() => location.search === '', undefined, { timeout: 5_000 });
    const listed = await sender.page
      .locator('[data-testid=shared-files] li es-file-name')
      .evaluateAll((els) => els.map((el) => el.textContent ?? '').sort());
    expect(listed).toEqual(['photo.jpg', 'shared-text.txt']);
    await expectAccessible(sender.page, 'send page, opened from a share sheet');

    // They reach a receiver like any other files.
    const receiver = await browsers.launch('pwa-share-target-rx');
    await receiver.page.goto(await link.inputValue());
    await waitForReceiveState(receiver.page, 'ready');
    await receiver.page.click('[data-testid=download-all]');
    expect(await waitForFilesSettled(receiver.page, 2, 30_000)).toEqual({
      'photo.jpg': 'verified',
      'shared-text.txt': 'verified',
    });
  });

  it('starts offline from the cached app shell once it was opened', async () => {
    const visitor = await browsers.launch('pwa-offline');
    await visitor.page.goto(suite.stack.origin + '/');
    await controlledByWorker(visitor.page);
    // One online load under the worker puts the bundles in its cache.
    await visitor.page.reload();
    await visitor.page.locator('[data-testid=file-input]').waitFor({ state: 'attached' });
    await visitor.context.setOffline(true);
    try {
      await visitor.page.reload();
      await visitor.page.locator('h1', { hasText: 'Send files' }).waitFor({ timeout: 15_000 });
    } finally {
      await visitor.context.setOffline(false);
    }
  });

  it('the downloads the worker streams still arrive (one worker, both jobs)', async () => {
    const one = suite.files.createText('pwa-dl/one.txt', 'one');
    const two = suite.files.createText('pwa-dl/two.txt', 'two');
    const [sender, receiver] = await Promise.all([
      browsers.launch('pwa-dl-tx'),
      browsers.launch('pwa-dl-rx', 'download'),
    ]);
    const link = await shareFiles(sender.page, suite.stack.origin, [one, two]);
    await receiver.page.goto(link);
    await controlledByWorker(receiver.page);
    await waitForReceiveState(receiver.page, 'ready');
    const download = receiver.page.waitForEvent('download', { timeout: 30_000 });
    await receiver.page.click('[data-testid=download-all]');
    expect(await waitForFilesSettled(receiver.page, 2, 30_000)).toEqual({
      'one.txt': 'verified',
      'two.txt': 'verified',
    });
    expect((await download).suggestedFilename()).toMatch(/\.zip$/);
    await receiver.page.locator('[data-testid=archive-name][data-saved=true]').waitFor();
  });
});
