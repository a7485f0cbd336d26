import type { BrowserContext, Page } from 'playwright-core';
import { expectAccessible } from './axe';
import { shareFiles, waitForFilesSettled, waitForReceiveState } from '@ephemeral/browser-testing';
import { shareSuite } from './share-suite';

/** The browser's language preference, as navigator.languages reports it. */
async function prefer(context: BrowserContext, languages: string[]): Promise<void> {
  await context.addInitScript((list) => {
    Object.defineProperty(navigator, 'languages', { get: () => list, configurable: true });
    Object.defineProperty(navigator, 'language', { get: () => list[0], configurable: true });
  }, languages);
}

const text = (page: Page, selector: string) => page.locator(selector).first().innerText();

describe('web app: languages', () => {
  const suite = shareSuite();
  const browsers = suite.browsers;

  it('a German browser gets the app in German, plurals and numbers included, on both ends', async () => {
    const small = suite.files.create('de/bericht.pdf', 1536);
    const other = suite.files.createText('de/notiz.txt', 'hallo');
    const [sender, receiver] = await Promise.all([
      browsers.launch('tx-de'),
      browsers.launch('rx-de'),
    ]);
    await prefer(sender.context, ['de-DE', 'de', 'en']);
    await prefer(receiver.context, ['de-AT', 'en']);

    await sender.page.goto(suite.stack.origin + '/');
    await expect(text(sender.page, 'h1')).resolves.toBe('Dateien senden');
    await expect(sender.page.evaluate(() => document.documentElement.lang)).resolves.toBe('de');
    await expect(sender.page.title()).resolves.toBe('Dateien senden · Ephemeral Share');
    await expect(text(sender.page, '[data-testid=first-run] h2')).resolves.toBe(
      'So funktioniert es',
    );

    const link = await shareFiles(sender.page, suite.stack.origin, [small, other]);
    // The plural and the decimal comma of the language.
    await expect(text(sender.page, '#files-heading')).resolves.toBe('2 Dateien · 1,5 KB');
    await expect(text(sender.page, '[data-testid=stop-sharing]')).resolves.toBe('Freigabe beenden');
    await expectAccessible(sender.page, 'send page in German');

    await receiver.page.goto(link);
    await waitForReceiveState(receiver.page, 'ready');
    await expect(text(receiver.page, '[data-testid=download-all]')).resolves.toBe(
      'Alles herunterladen',
    );
    await receiver.page.click('[data-testid=download-all]');
    expect(await waitForFilesSettled(receiver.page, 2, 30_000)).toEqual({
      'bericht.pdf': 'verified',
      'notiz.txt': 'verified',
    });
    await expect(text(receiver.page, '[data-file="bericht.pdf"] .file-state')).resolves.toBe(
      '✓ Geprüft (SHA-256)',
    );
    await expect(text(receiver.page, '[data-testid=announcer]')).resolves.toContain(
      'Alle Downloads abgeschlossen.',
    );
    await expectAccessible(receiver.page, 'receive page in German');
  });

  it('the switcher changes the language, and the choice is remembered', async () => {
    const visitor = await browsers.launch('lang-switch');
    await prefer(visitor.context, ['en-GB']);
    await visitor.page.goto(suite.stack.origin + '/');
    await expect(text(visitor.page, 'h1')).resolves.toBe('Send files');
    await visitor.page.selectOption('[data-testid=language]', 'fr');
    await visitor.page.waitForFunction(() => document.documentElement.lang === 'fr', undefined, {
      timeout: 15_000,
    });
    await visitor.page.locator('h1', { hasText: 'Envoyer des fichiers' }).waitFor();
    await expect(visitor.page.locator('[data-testid=language]').inputValue()).resolves.toBe('fr');
    await expectAccessible(visitor.page, 'send page in French');

    await visitor.page.goto(`${suite.stack.origin}/no/such/page`);
    await expect(text(visitor.page, 'h1')).resolves.toBe('Il n’y a pas de page ici');
    await visitor.page.selectOption('[data-testid=language]', 'en');
    await visitor.page.locator('h1', { hasText: 'There is no page here' }).waitFor();
  });
});
