import { randomUUID } from 'node:crypto';
import { axeInBothSchemes, expectAccessible } from './axe';
import { shareFiles, waitForFilesSettled, waitForReceiveState } from '@ephemeral/browser-testing';
import { shareSuite } from './share-suite';

const MB = 1024 * 1024;

// axe-core (every rule it enables by default: WCAG 2 A/AA and best
// practices) over every page and state a person meets, in the light and
// the dark colour scheme, with zero findings asserted.
describe('web app: accessibility (axe-core, light and dark)', () => {
  const suite = shareSuite();
  const browsers = suite.browsers;

  it('the send page: first visit, files shared, a receiver downloading, stopped', async () => {
    const big = suite.files.create('a11y/big.bin', 150 * MB);
    const note = suite.files.createText(
      'a11y/a-rather-long-folder-name/notes-for-the-meeting.txt',
      'hi',
    );
    const [sender, receiver] = await Promise.all([
      browsers.launch('tx-a11y'),
      browsers.launch('rx-a11y'),
    ]);
    await sender.page.goto(suite.stack.origin + '/');
    await sender.page.locator('[data-testid=first-run]').waitFor();
    await expectAccessible(sender.page, 'send page, first visit');

    const link = await shareFiles(sender.page, suite.stack.origin, [big, note]);
    await expectAccessible(sender.page, 'send page, files shared');

    await receiver.page.goto(link);
    await waitForReceiveState(receiver.page, 'ready');
    await expectAccessible(receiver.page, 'receive page, file list');
    await receiver.page.click('[data-testid=download-all]');
    await receiver.page
      .locator('[data-testid=file-list] li[data-state=downloading]')
      .waitFor({ timeout: 15_000 });
    await sender.page
      .locator('[data-testid=receivers] li[data-state=transferring]')
      .waitFor({ timeout: 15_000 });
    await expectAccessible(sender.page, 'send page, a receiver downloading');
    await expectAccessible(receiver.page, 'receive page, downloading');

    await sender.page.click('[data-testid=stop-sharing]');
    await sender.page.locator('[data-testid=share-stopped]').waitFor({ timeout: 5_000 });
    await expectAccessible(sender.page, 'send page, stopped');
    await waitForReceiveState(receiver.page, 'sender-left', 10_000);
    await expectAccessible(receiver.page, 'receive page, sender left');
  });

  it('the receive page: connecting, done with SHA-256s, a share that is gone', async () => {
    const one = suite.files.createText('a11y-done/one.txt', 'one');
    const two = suite.files.createText('a11y-done/two.txt', 'two');
    const [sender, receiver, waiting] = await Promise.all([
      browsers.launch('tx-a11y-done'),
      browsers.launch('rx-a11y-done'),
      browsers.launch('rx-a11y-waiting'),
    ]);
    const link = await shareFiles(sender.page, suite.stack.origin, [one, two]);

    // A server that never answers: the page stays "connecting".
    await waiting.page.routeWebSocket(/\/ws$/, () => undefined);
    await waiting.page.goto(link);
    await waitForReceiveState(waiting.page, 'connecting');
    await expectAccessible(waiting.page, 'receive page, connecting');

    await receiver.page.goto(link);
    await waitForReceiveState(receiver.page, 'ready');
    await receiver.page.click('[data-testid=download-all]');
    expect(await waitForFilesSettled(receiver.page, 2, 30_000)).toEqual({
      'one.txt': 'verified',
      'two.txt': 'verified',
    });
    await expectAccessible(receiver.page, 'receive page, all verified');

    await sender.page.close();
    const gone = await browsers.launch('rx-a11y-gone');
    // A well-formed link to a sender the server does not know.
    await gone.page.goto(link.replace(/\/s\/[^#]+/, `/s/${randomUUID()}`));
    await waitForReceiveState(gone.page, 'unavailable', 20_000);
    await expectAccessible(gone.page, 'receive page, share gone');
  });

  it('the not-found page and an incomplete link', async () => {
    const visitor = await browsers.launch('a11y-404');
    await visitor.page.goto(`${suite.stack.origin}/no/such/page`);
    await visitor.page.locator('[data-testid=not-found]').waitFor();
    await expectAccessible(visitor.page, 'not-found page');
    await visitor.page.goto(`${suite.stack.origin}/s/abc`);
    await waitForReceiveState(visitor.page, 'invalid-link');
    await expectAccessible(visitor.page, 'receive page, incomplete link');
  });

  it('finds what it is there to find: a planted low-contrast line and an unlabelled image', async () => {
    const visitor = await browsers.launch('a11y-planted');
    await visitor.page.goto(`${suite.stack.origin}/no/such/page`);
    await visitor.page.locator('[data-testid=not-found]').waitFor();
    await visitor.page.evaluate(() => {
      const card = document.querySelector('[data-testid=not-found]')!;
      // The old "Verified" green on white (4.36:1).
      card.insertAdjacentHTML(
        'beforeend',
        '<p style="color:#2b8a3e;background:#fff">✓ Verified</p>',
      );
      card.insertAdjacentHTML('beforeend', '<img src="favicon.svg">');
    });
    const findings = await axeInBothSchemes(visitor.page, 'planted');
    for (const scheme of ['planted (light)', 'planted (dark)'])
      expect(findings[scheme].map((f) => f.rule).sort()).toEqual(['color-contrast', 'image-alt']);
  });
});
