import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  BrowserPeer,
  BrowserPeers,
  shareFiles,
  waitForFilesSettled,
  waitForReceiveState,
} from '@ephemeral/browser-testing';
import { linkOn } from './share-stack';
import { shareSuite } from './share-suite';

// "lan.test" resolves to 127.0.0.1 for these browsers only: a page at
// http://lan.test is what a phone opening `npm start` over a LAN address
// gets — plain http at a network name, not a secure context — while every
// packet stays on loopback.
const LAN_HOST = 'lan.test';

function launchOnLan(browsers: BrowserPeers, name: string): Promise<BrowserPeer> {
  return BrowserPeer.launch(name, 'download', {
    extraArgs: [`--host-resolver-rules=MAP ${LAN_HOST} 127.0.0.1`],
  }).then((peer) => browsers.adopt(peer));
}

describe('a page outside a secure context (plain http at a LAN name)', () => {
  const suite = shareSuite();
  const lanOrigin = () => suite.stack.origin.replace('127.0.0.1', LAN_HOST);

  it('says so in plain words, and still sends and receives a file', async () => {
    const path = suite.files.createText('insecure/hello.txt', 'over plain http\n');
    const [sender, receiver] = await Promise.all([
      launchOnLan(suite.browsers, 'tx-insecure'),
      launchOnLan(suite.browsers, 'rx-insecure'),
    ]);
    const link = await shareFiles(sender.page, lanOrigin(), [path]);
    expect(new URL(link).host).toBe(new URL(lanOrigin()).host);
    expect(await sender.page.evaluate(() => window.isSecureContext)).toBe(false);
    const notice = sender.page.locator('[data-testid=insecure-context]');
    await notice.waitFor({ timeout: 10_000 });
    expect(await notice.textContent()).toMatch(/not on a secure connection[\s\S]*Still works/);

    await receiver.page.goto(linkOn(lanOrigin(), link));
    await receiver.page.locator('[data-testid=insecure-context]').waitFor({ timeout: 10_000 });
    await waitForReceiveState(receiver.page, 'ready');
    const download = receiver.page.waitForEvent('download', { timeout: 30_000 });
    await receiver.page.click('[data-testid=download-all]');
    expect(await waitForFilesSettled(receiver.page, 1, 30_000)).toEqual({
      'hello.txt': 'verified',
    });
    const saved = await (await download).path();
    expect(createHash('sha256').update(readFileSync(saved)).digest('hex')).toBe(
      suite.files.hashes.get('insecure/hello.txt'),
    );
  });

  it('says nothing of the kind on a secure page (loopback)', async () => {
    const page = (await suite.browsers.launch('secure-page')).page;
    await page.goto(suite.stack.origin + '/');
    await page.locator('[data-testid=file-input]').waitFor({ state: 'attached' });
    expect(await page.evaluate(() => window.isSecureContext)).toBe(true);
    expect(await page.locator('[data-testid=insecure-context]').count()).toBe(0);
  });
});
