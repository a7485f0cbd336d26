import {
  cutChannels,
  dataBytes,
  savedFileHashes,
  shareFiles,
  waitForDataBytes,
  waitForFilesSettled,
  waitForReceiveState,
} from '@ephemeral/browser-testing';
import { shareSuite } from './share-suite';

const MB = 1024 * 1024;

describe('web app: sending files browser to browser', () => {
  const suite = shareSuite();
  const browsers = suite.browsers;

  const launch = (name: string) => browsers.launch(name);

  it('moves a 200 MB file and a folder, and every file on disk has the same SHA-256', async () => {
    const big = suite.files.create('big.bin', 200 * MB);
    suite.files.create('album/photos/one.jpg', 3 * MB + 17);
    suite.files.create('album/photos/two.jpg', 1 * MB);
    suite.files.createText('album/notes/readme.txt', 'hello from the folder\n');
    suite.files.create('album/empty.bin', 0);
    const [sender, receiver] = await Promise.all([launch('sender'), launch('receiver')]);

    const link = await shareFiles(
      sender.page,
      suite.stack.origin,
      [big],
      `${suite.files.root}/album`,
    );
    expect(link).toMatch(/\/s\/[0-9a-f-]{36}#[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{43}$/);

    await receiver.page.goto(link);
    await waitForReceiveState(receiver.page, 'ready');
    const listed = await receiver.page
      .locator('[data-testid=file-list] li')
      .evaluateAll((lis) => lis.map((li) => li.getAttribute('data-file')));
    expect(listed.sort()).toEqual([
      'album/empty.bin',
      'album/notes/readme.txt',
      'album/photos/one.jpg',
      'album/photos/two.jpg',
      'big.bin',
    ]);

    await receiver.page.click('[data-testid=download-all]');
    const states = await waitForFilesSettled(receiver.page, 5, 90_000);
    expect(Object.values(states)).toEqual(Array(5).fill('verified'));

    const onDisk = await savedFileHashes(receiver.page);
    expect(onDisk).toEqual(Object.fromEntries(suite.files.hashes));
  });

  it('serves two receivers at once, each verified', async () => {
    const shared = suite.files.create('two/shared.bin', 40 * MB);
    const [sender, first, second] = await Promise.all([
      launch('sender2'),
      launch('rx1'),
      launch('rx2'),
    ]);
    const link = await shareFiles(sender.page, suite.stack.origin, [shared]);

    await Promise.all([first.page.goto(link), second.page.goto(link)]);
    await Promise.all([
      waitForReceiveState(first.page, 'ready'),
      waitForReceiveState(second.page, 'ready'),
    ]);
    await Promise.all([
      first.page.click('[data-testid=download-all]'),
      second.page.click('[data-testid=download-all]'),
    ]);
    const [a, b] = await Promise.all([
      waitForFilesSettled(first.page, 1, 60_000),
      waitForFilesSettled(second.page, 1, 60_000),
    ]);
    expect(a).toEqual({ 'shared.bin': 'verified' });
    expect(b).toEqual({ 'shared.bin': 'verified' });
    const expected = suite.files.hashes.get('two/shared.bin');
    expect(Object.values(await savedFileHashes(first.page))).toEqual([expected]);
    expect(Object.values(await savedFileHashes(second.page))).toEqual([expected]);
    // The sender sees both receivers.
    await sender.page.waitForFunction(
      () => document.querySelectorAll('[data-testid=receivers] li').length === 2,
      undefined,
      { timeout: 10_000 },
    );
  });

  it('resumes a dropped connection from the last byte received, and the file still verifies', async () => {
    const size = 120 * MB;
    const path = suite.files.create('resume/large.bin', size);
    const [sender, receiver] = await Promise.all([launch('sender3'), launch('rx3')]);
    const link = await shareFiles(sender.page, suite.stack.origin, [path]);
    await receiver.page.goto(link);
    await waitForReceiveState(receiver.page, 'ready');
    await receiver.page.click('[data-testid=download-all]');

    // Cut the connection once a fifth of the file has arrived.
    await waitForDataBytes(receiver.page, size / 5);
    await cutChannels(receiver.page);
    const atDrop = await dataBytes(receiver.page);
    expect(atDrop).toBeLessThan(size);

    const states = await waitForFilesSettled(receiver.page, 1, 90_000);
    expect(states).toEqual({ 'large.bin': 'verified' });
    expect(Object.values(await savedFileHashes(receiver.page))).toEqual([
      suite.files.hashes.get('resume/large.bin'),
    ]);
    // Resumed, not restarted: the bytes on the wire add up to about one file
    // (4-byte chunk headers, plus at most the chunks in flight at the cut).
    // Starting over would have cost at least size + atDrop.
    const total = await dataBytes(receiver.page);
    expect(total).toBeLessThan(size + atDrop / 2);
  });

  it('cancels a file mid-download: shown cancelled, nothing left on disk, the next file still verifies', async () => {
    const size = 150 * MB;
    const big = suite.files.create('cancel/big.bin', size);
    const next = suite.files.create('cancel/next.bin', 5 * MB + 3);
    const [sender, receiver] = await Promise.all([launch('sender4'), launch('rx4')]);
    const link = await shareFiles(sender.page, suite.stack.origin, [big, next]);
    await receiver.page.goto(link);
    await waitForReceiveState(receiver.page, 'ready');
    await receiver.page.click('[data-testid=download-all]');

    // Once a tenth of big.bin has arrived, cancel it with the keyboard.
    await waitForDataBytes(receiver.page, size / 10);
    const cancel = receiver.page.getByRole('button', { name: 'Cancel big.bin', exact: true });
    await cancel.focus();
    await receiver.page.keyboard.press('Enter');

    const states = await waitForFilesSettled(receiver.page, 2, 90_000);
    expect(states).toEqual({ 'big.bin': 'cancelled', 'next.bin': 'verified' });
    await expect(
      receiver.page.locator('[data-file="big.bin"] .file-state').textContent(),
    ).resolves.toContain('Cancelled');
    // The partial file was discarded; only the verified one is on disk.
    expect(await savedFileHashes(receiver.page)).toEqual({
      'next.bin': suite.files.hashes.get('cancel/next.bin'),
    });
    // The sender stopped sending: far less than the whole file crossed the wire.
    expect(await dataBytes(receiver.page)).toBeLessThan(size / 2 + 5 * MB);
    // The same button now offers to download the file again.
    await expect(
      receiver.page.getByRole('button', { name: 'Download again big.bin', exact: true }).count(),
    ).resolves.toBe(1);
  });
});
