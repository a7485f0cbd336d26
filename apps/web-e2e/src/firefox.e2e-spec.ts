import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { readZip } from '@ephemeral/testing';
import { filesSettled, listedFiles, receiveState, shareFrom } from '@ephemeral/browser-testing';
import { linkOn } from './share-stack';
import { enginesSuite } from './share-suite';
import { rewriteAnswers, startSignalingRelay } from './signaling-relay';

const MB = 1024 * 1024;
const OTHER_FINGERPRINT = Array.from({ length: 32 }, (_, i) =>
  (i * 11 + 3).toString(16).padStart(2, '0').toUpperCase(),
).join(':');

describe('web app in Firefox (puppeteer-core over WebDriver BiDi)', () => {
  const suite = enginesSuite();
  const peers = suite.browsers;

  it('Firefox sends a file and a folder to Chromium; every file on disk has the same SHA-256', async () => {
    const big = suite.files.create('ff-tx/big.bin', 24 * MB + 5);
    suite.files.create('ff-tx/album/photos/one.jpg', 3 * MB + 17);
    suite.files.createText('ff-tx/album/notes/readme.txt', 'hello from the folder\n');
    suite.files.create('ff-tx/album/empty.bin', 0);
    const [sender, receiver] = await Promise.all([
      peers.firefox('ff-sender'),
      peers.chromium('cr-receiver'),
    ]);

    const link = await shareFrom(
      sender,
      suite.stack.origin,
      [big],
      `${suite.files.root}/ff-tx/album`,
    );
    expect(link).toMatch(/\/s\/[0-9a-f-]{36}#[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{43}$/);

    await receiver.goto(link);
    await receiveState(receiver, 'ready');
    expect(await listedFiles(receiver)).toEqual([
      'album/empty.bin',
      'album/notes/readme.txt',
      'album/photos/one.jpg',
      'big.bin',
    ]);
    await receiver.click('[data-testid=download-all]');
    const states = await filesSettled(receiver, 4, 60_000);
    expect(Object.values(states)).toEqual(Array(4).fill('verified'));
    expect(await receiver.savedFileHashes()).toEqual({
      'big.bin': suite.files.hashes.get('ff-tx/big.bin'),
      'album/photos/one.jpg': suite.files.hashes.get('ff-tx/album/photos/one.jpg'),
      'album/notes/readme.txt': suite.files.hashes.get('ff-tx/album/notes/readme.txt'),
      'album/empty.bin': suite.files.hashes.get('ff-tx/album/empty.bin'),
    });
  });

  it('Firefox receives from Chromium: one file as itself, several as one zip, all verified on disk', async () => {
    const movie = suite.files.create('ff-rx/movie.bin', 20 * MB + 3);
    suite.files.create('ff-rx/set/photos/one.jpg', 2 * MB + 1);
    suite.files.createText('ff-rx/set/notes.txt', 'several files make one zip\n');
    const [sender, receiver] = await Promise.all([
      peers.chromium('cr-sender'),
      peers.firefox('ff-receiver'),
    ]);
    const link = await shareFrom(
      sender,
      suite.stack.origin,
      [movie],
      `${suite.files.root}/ff-rx/set`,
    );
    await receiver.goto(link);
    await receiveState(receiver, 'ready');
    expect(await listedFiles(receiver)).toEqual([
      'movie.bin',
      'set/notes.txt',
      'set/photos/one.jpg',
    ]);

    // One file on its own: a download of the file itself.
    await receiver.click('[data-file="movie.bin"] [data-testid=download-file]');
    expect(await filesSettled(receiver, 1, 60_000)).toMatchObject({ 'movie.bin': 'verified' });
    expect(await receiver.downloadHashes(1)).toEqual({
      'movie.bin': suite.files.hashes.get('ff-rx/movie.bin'),
    });

    // Then the rest (the verified file is not fetched again): one streamed
    // zip that keeps the folder paths.
    await receiver.click('[data-testid=download-all]');
    await receiver.waitForFunction(
      () => document.querySelector('[data-testid=archive-name]')?.textContent?.includes('.zip'),
      undefined,
      10_000,
    );
    await receiver.waitForFunction(
      () =>
        [...document.querySelectorAll('[data-testid=file-list] li')].every(
          (li) => li.getAttribute('data-state') === 'verified',
        ),
      undefined,
      60_000,
    );
    const [single, zip] = await receiver.downloads(2);
    expect([single, zip].map((d) => basename(d.filepath!))).toEqual([
      'movie.bin',
      'ephemeral-share.zip',
    ]);
    // Both streamed by the download worker, not assembled in memory as blob: URLs.
    for (const { url } of [single, zip])
      expect(new URL(url).pathname).toMatch(/^\/__download\/[\w-]+$/);
    const archive = readZip(readFileSync(receiver.inDownloadDir(zip.filepath!)));
    expect(
      Object.fromEntries(
        archive.files.map((f) => [f.name, createHash('sha256').update(f.data).digest('hex')]),
      ),
    ).toEqual({
      'set/photos/one.jpg': suite.files.hashes.get('ff-rx/set/photos/one.jpg'),
      'set/notes.txt': suite.files.hashes.get('ff-rx/set/notes.txt'),
    });
  });

  it('Firefox sends to Firefox: the file verifies on disk', async () => {
    const file = suite.files.create('ff-ff/report.pdf', 8 * MB + 11);
    const [sender, receiver] = await Promise.all([
      peers.firefox('ff-sender2'),
      peers.firefox('ff-receiver2'),
    ]);
    const link = await shareFrom(sender, suite.stack.origin, [file]);
    await receiver.goto(link);
    await receiveState(receiver, 'ready');
    await receiver.click('[data-testid=download-all]');
    expect(await filesSettled(receiver, 1, 60_000)).toEqual({ 'report.pdf': 'verified' });
    expect(await receiver.downloadHashes(1)).toEqual({
      'report.pdf': suite.files.hashes.get('ff-ff/report.pdf'),
    });
  });

  it('refuses, in Firefox, an answer whose relay added a second a=fingerprint line', async () => {
    const secret = suite.files.createText(
      'ff-pin/top-secret-plans.txt',
      'only the sender may serve this',
    );
    const [sender, receiver] = await Promise.all([
      peers.chromium('cr-pin-sender'),
      peers.firefox('ff-pin-receiver'),
    ]);
    const link = await shareFrom(sender, suite.stack.origin, [secret]);
    const honest = await startSignalingRelay(suite.stack.origin);
    let rewritten = 0;
    // Firefox's own DTLS check passes when ANY listed fingerprint matches:
    // the app must refuse the extra line itself.
    const hostile = await startSignalingRelay(
      suite.stack.origin,
      rewriteAnswers((sdp) => {
        rewritten++;
        const line = /^a=fingerprint:.*$/m.exec(sdp)?.[0] ?? '';
        return sdp.replace(line, `${line}\r\na=fingerprint:sha-256 ${OTHER_FINGERPRINT}`);
      }),
    );
    try {
      // The relay itself is transparent: untouched, the file arrives and verifies.
      await receiver.goto(linkOn(honest.origin, link));
      await receiveState(receiver, 'ready');
      await receiver.click('[data-testid=download-all]');
      expect(await filesSettled(receiver, 1, 30_000)).toEqual({
        'top-secret-plans.txt': 'verified',
      });
      expect(await receiver.downloadHashes(1)).toEqual({
        'top-secret-plans.txt': suite.files.hashes.get('ff-pin/top-secret-plans.txt'),
      });

      await receiver.goto(linkOn(hostile.origin, link));
      await receiveState(receiver, 'secret-mismatch');
      expect(rewritten).toBeGreaterThan(0);
      expect(
        await receiver.evaluate(() => document.querySelectorAll('[data-testid=file-list]').length),
      ).toBe(0);
      expect(await receiver.evaluate(() => document.documentElement.outerHTML)).not.toContain(
        'top-secret-plans',
      );
    } finally {
      await Promise.all([honest.close(), hostile.close()]);
    }
  });
});
