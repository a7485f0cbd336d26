import type { WebSocketRoute } from 'playwright-core';
import { expectAccessible } from './axe';
import { shareFiles, waitForFilesSettled, waitForReceiveState } from '@ephemeral/browser-testing';
import { shareSuite } from './share-suite';

const MB = 1024 * 1024;

describe('web app: what the sender controls', () => {
  const suite = shareSuite();
  const browsers = suite.browsers;

  it('"Stop sharing" ends the share for everyone and kills the link', async () => {
    const big = suite.files.create('stop/big.bin', 120 * MB);
    const [sender, receiver, late] = await Promise.all([
      browsers.launch('tx-stop'),
      browsers.launch('rx-stop'),
      browsers.launch('rx-late'),
    ]);
    const link = await shareFiles(sender.page, suite.stack.origin, [big]);
    await receiver.page.goto(link);
    await waitForReceiveState(receiver.page, 'ready');
    await receiver.page.click('[data-testid=download-all]');
    await receiver.page
      .locator('[data-testid=file-list] li[data-state=downloading]')
      .waitFor({ timeout: 15_000 });

    await sender.page.click('[data-testid=stop-sharing]');
    await sender.page.locator('[data-testid=share-stopped]').waitFor({ timeout: 5_000 });
    expect(await sender.page.locator('[data-testid=share-link]').count()).toBe(0);
    await expectAccessible(sender.page, 'share stopped');
    // The receiver hears it at once (the sender's Bye), not after a timeout.
    await waitForReceiveState(receiver.page, 'sender-left', 5_000);
    // And the link leads nowhere now: "closed the share" while the page
    // still relays its Byes, "no longer available" once the server forgot it.
    await late.page.goto(link);
    await late.page
      .locator(
        '[data-testid=receive-state][data-state=sender-left], [data-testid=receive-state][data-state=unavailable]',
      )
      .waitFor({ state: 'attached', timeout: 10_000 });
  });

  it('says at once when the server is unreachable, keeps receivers downloading, and recovers by itself', async () => {
    const big = suite.files.create('outage/big.bin', 60 * MB);
    const [sender, receiver] = await Promise.all([
      browsers.launch('tx-outage'),
      browsers.launch('rx-outage'),
    ]);
    // The sender's path to the server: cut at will, as a lost network or
    // a restarting gateway would; every reconnect attempt fails while cut.
    let reachable = true;
    const open: WebSocketRoute[] = [];
    await sender.page.routeWebSocket(/\/ws$/, (ws) => {
      if (!reachable) return void ws.close({ code: 1011, reason: 'unreachable' });
      ws.connectToServer();
      open.push(ws);
    });
    const link = await shareFiles(sender.page, suite.stack.origin, [big]);
    await receiver.page.goto(link);
    await waitForReceiveState(receiver.page, 'ready');
    await receiver.page.click('[data-testid=download-all]');
    await receiver.page
      .locator('[data-testid=file-list] li[data-state=downloading]')
      .waitFor({ timeout: 15_000 });

    reachable = false;
    for (const ws of open.splice(0)) await ws.close({ code: 1011, reason: 'unreachable' });
    await sender.page.locator('[data-testid=server-unreachable]').waitFor({ timeout: 3_000 });
    await expectAccessible(sender.page, 'server unreachable');
    // The download does not need the server.
    expect(await waitForFilesSettled(receiver.page, 1, 60_000)).toEqual({ 'big.bin': 'verified' });

    reachable = true;
    await sender.page
      .locator('[data-testid=server-unreachable]')
      .waitFor({ state: 'detached', timeout: 15_000 });
    // Resumed with the same ID: the same link works for a new receiver.
    expect(await sender.page.locator('[data-testid=share-lost]').count()).toBe(0);
    const late = await browsers.launch('rx-after-outage');
    await late.page.goto(link);
    await waitForReceiveState(late.page, 'ready');
  });

  it('removing every file keeps the share (and says so) until it is stopped', async () => {
    const one = suite.files.createText('keep/one.txt', 'one');
    const sender = await browsers.launch('tx-empty');
    const link = await shareFiles(sender.page, suite.stack.origin, [one]);
    await sender.page.click('[data-testid=shared-files] li button.remove');
    await sender.page.locator('[data-testid=nothing-shared]').waitFor({ timeout: 5_000 });
    await expect(sender.page.locator('[data-testid=share-link]').inputValue()).resolves.toBe(link);

    const receiver = await browsers.launch('rx-empty');
    await receiver.page.goto(link);
    await receiver.page.locator('[data-testid=empty-share]').waitFor({ timeout: 15_000 });
    await expectAccessible(sender.page, 'nothing shared any more');
    await expectAccessible(receiver.page, 'receiver of an empty share');
  });

  it('"Copy link" without a clipboard selects the link and says how to copy it', async () => {
    const one = suite.files.createText('copy/one.txt', 'one');
    const sender = await browsers.launch('tx-copy');
    await sender.context.addInitScript(() => {
      Object.defineProperty(navigator, 'clipboard', { value: undefined, configurable: true });
    });
    const link = await shareFiles(sender.page, suite.stack.origin, [one]);
    await sender.page.getByRole('button', { name: 'Copy link' }).click();
    await sender.page.locator('[data-testid=copy-hint]').waitFor({ timeout: 5_000 });
    const selected = await sender.page.evaluate(() => {
      const input = document.querySelector<HTMLInputElement>('[data-testid=share-link]')!;
      return input.value.slice(input.selectionStart ?? 0, input.selectionEnd ?? 0);
    });
    expect(selected).toBe(link);
    await expectAccessible(sender.page, 'copy fallback');
  });
});
