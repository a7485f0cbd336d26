import {
  savedFileHashes,
  shareFiles,
  waitForFilesSettled,
  waitForReceiveState,
} from '@ephemeral/browser-testing';
import { shareSuite } from './share-suite';

/** Every file name under the receiver's download folders, `.part` files included. */
async function savedNames(page: import('playwright-core').Page): Promise<string[]> {
  return Object.keys(await savedFileHashes(page)).sort();
}

describe('web app: the receiver writes nothing unverified and nothing unsafe', () => {
  const suite = shareSuite();
  const browsers = suite.browsers;

  it('rewrites hostile names from a shared folder: hidden, device, bidi, zero-width, case twins', async () => {
    // Names a hostile sender controls (Linux allows all of them on disk).
    const hostile: Record<string, string> = {
      'tree/.git/hooks/pre-commit': 'tree/_git/hooks/pre-commit',
      'tree/CON.txt': 'tree/_CON.txt',
      'tree/invoice\u202Efdp.exe': 'tree/invoicefdp.exe',
      'tree/zero\u200Bwidth.txt': 'tree/zerowidth.txt',
      'tree/Report.txt': 'tree/Report.txt',
      'tree/report.txt': 'tree/report (2).txt',
    };
    for (const path of Object.keys(hostile)) suite.files.createText(path, `contents of ${path}`);
    const [sender, receiver] = await Promise.all([
      browsers.launch('tx-names'),
      browsers.launch('rx-names'),
    ]);
    const link = await shareFiles(sender.page, suite.stack.origin, [], `${suite.files.root}/tree`);
    await receiver.page.goto(link);
    await waitForReceiveState(receiver.page, 'ready');
    await receiver.page.click('[data-testid=download-all]');
    const settled = await waitForFilesSettled(receiver.page, 6, 30_000);
    expect(Object.values(settled)).toEqual(Array(6).fill('verified'));

    const saved = await savedFileHashes(receiver.page);
    const isTwin = (name: string) => name.toLowerCase().startsWith('tree/report');
    // Every other file under its rewritten name, with its own contents.
    const others = Object.entries(hostile).filter(([from]) => !isTwin(from));
    expect(Object.fromEntries(Object.entries(saved).filter(([name]) => !isTwin(name)))).toEqual(
      Object.fromEntries(others.map(([from, to]) => [to, suite.files.hashes.get(from)])),
    );
    // The case twins: one keeps its name, the other (whichever came second)
    // gets " (2)"; neither replaced the other.
    const twins = Object.entries(saved).filter(([name]) => isTwin(name));
    expect(twins.map(([name]) => name.toLowerCase()).sort()).toEqual([
      'tree/report (2).txt',
      'tree/report.txt',
    ]);
    expect(twins.map(([, hash]) => hash).sort()).toEqual(
      [suite.files.hashes.get('tree/Report.txt'), suite.files.hashes.get('tree/report.txt')].sort(),
    );
  });

  it('deletes a file whose SHA-256 does not match, and leaves no .part behind', async () => {
    const good = suite.files.createText('pair/good.txt', 'arrives intact');
    const bad = suite.files.create('pair/corrupted.bin', 256 * 1024);
    const [sender, receiver] = await Promise.all([
      browsers.launch('tx-corrupt'),
      browsers.launch('rx-corrupt'),
    ]);
    const link = await shareFiles(sender.page, suite.stack.origin, [bad, good]);
    await receiver.page.goto(link);
    await waitForReceiveState(receiver.page, 'ready');
    // The first chunk of the first file arrives with one byte flipped.
    await receiver.page.evaluate(() => {
      (window as unknown as { __e2e: { corruptNext: boolean } }).__e2e.corruptNext = true;
    });
    await receiver.page.click('[data-testid=download-all]');
    const settled = await waitForFilesSettled(receiver.page, 2, 30_000);
    expect(settled).toEqual({ 'corrupted.bin': 'failed', 'good.txt': 'verified' });
    expect(await savedNames(receiver.page)).toEqual(['good.txt']);
  });
});
