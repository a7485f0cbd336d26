import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readZip } from '@ephemeral/testing';
import type { Download } from 'playwright-core';
import {
  sha256File,
  shareFiles,
  waitForDataBytes,
  waitForFilesSettled,
  waitForReceiveState,
} from '@ephemeral/browser-testing';
import { shareSuite } from './share-suite';

const MB = 1024 * 1024;

describe('web app: browsers without the File System Access API', () => {
  const suite = shareSuite();
  const browsers = suite.browsers;

  it('streams single files through the service worker into ordinary downloads, byte for byte', async () => {
    const big = suite.files.create('stream/video.bin', 60 * MB);
    const small = suite.files.createText('stream/notes.txt', 'streamed, not buffered\n');
    const sender = await browsers.launch('tx-stream');
    const receiver = await browsers.launch('rx-stream', 'download');

    const link = await shareFiles(sender.page, suite.stack.origin, [big, small]);
    await receiver.page.goto(link);
    await waitForReceiveState(receiver.page, 'ready');

    const downloads: Download[] = [];
    receiver.page.on('download', (d) => downloads.push(d));
    // One file at a time: each is its own download (several at once make a zip).
    await receiver.page.click('[data-file="video.bin"] [data-testid=download-file]');
    await receiver.page.click('[data-file="notes.txt"] [data-testid=download-file]');
    const states = await waitForFilesSettled(receiver.page, 2, 90_000);
    expect(states).toEqual({ 'video.bin': 'verified', 'notes.txt': 'verified' });

    expect(downloads.map((d) => d.suggestedFilename()).sort()).toEqual(['notes.txt', 'video.bin']);
    // Streamed by the download worker, not assembled in memory as a blob: URL.
    for (const download of downloads)
      expect(new URL(download.url()).pathname).toMatch(/^\/__download\/[\w-]+$/);
    const onDisk: Record<string, string> = {};
    for (const download of downloads) {
      const path = await download.path();
      onDisk[download.suggestedFilename()] = await sha256File(path);
    }
    expect(onDisk).toEqual({
      'video.bin': suite.files.hashes.get('stream/video.bin'),
      'notes.txt': suite.files.hashes.get('stream/notes.txt'),
    });
  });

  it('streams everything, folders included, into one zip that keeps the folder paths', async () => {
    const top = suite.files.create('zip/top.bin', 30 * MB + 5);
    suite.files.create('zip/album/photos/one.jpg', 3 * MB + 17);
    suite.files.createText('zip/album/notes/readme.txt', 'hello from the folder\n');
    suite.files.create('zip/album/empty.bin', 0);
    const sender = await browsers.launch('tx-zip');
    const receiver = await browsers.launch('rx-zip', 'download');

    const link = await shareFiles(
      sender.page,
      suite.stack.origin,
      [top],
      `${suite.files.root}/zip/album`,
    );
    await receiver.page.goto(link);
    await waitForReceiveState(receiver.page, 'ready');

    const downloads: Download[] = [];
    receiver.page.on('download', (d) => downloads.push(d));
    await receiver.page.click('[data-testid=download-all]');
    await expect(
      receiver.page.locator('[data-testid=archive-name]').textContent({ timeout: 10_000 }),
    ).resolves.toContain('ephemeral-share.zip');
    const states = await waitForFilesSettled(receiver.page, 4, 90_000);
    expect(Object.values(states)).toEqual(Array(4).fill('verified'));

    // One download, streamed by the worker, complete once the last file verified.
    expect(downloads.map((d) => d.suggestedFilename())).toEqual(['ephemeral-share.zip']);
    expect(new URL(downloads[0].url()).pathname).toMatch(/^\/__download\/[\w-]+$/);
    const archive = readZip(readFileSync(await downloads[0].path()));
    const inZip = Object.fromEntries(
      archive.files.map((f) => [f.name, createHash('sha256').update(f.data).digest('hex')]),
    );
    expect(inZip).toEqual({
      'top.bin': suite.files.hashes.get('zip/top.bin'),
      'album/photos/one.jpg': suite.files.hashes.get('zip/album/photos/one.jpg'),
      'album/notes/readme.txt': suite.files.hashes.get('zip/album/notes/readme.txt'),
      'album/empty.bin': suite.files.hashes.get('zip/album/empty.bin'),
    });
  });

  it('leaves a file cancelled mid-way out of the zip; the files after it are in it', async () => {
    const size = 120 * MB;
    suite.files.create('zipcancel/set/a-big.bin', size);
    suite.files.createText('zipcancel/set/b-after.txt', 'queued behind the big one\n');
    const sender = await browsers.launch('tx-zip-cancel');
    const receiver = await browsers.launch('rx-zip-cancel', 'download');
    const link = await shareFiles(
      sender.page,
      suite.stack.origin,
      [],
      `${suite.files.root}/zipcancel/set`,
    );
    await receiver.page.goto(link);
    await waitForReceiveState(receiver.page, 'ready');

    const downloads: Download[] = [];
    receiver.page.on('download', (d) => downloads.push(d));
    await receiver.page.click('[data-testid=download-all]');
    await waitForDataBytes(receiver.page, size / 10);
    await receiver.page.click('[data-file="set/a-big.bin"] [data-testid=cancel-file]');
    const states = await waitForFilesSettled(receiver.page, 2, 90_000);
    expect(states).toEqual({ 'set/a-big.bin': 'cancelled', 'set/b-after.txt': 'verified' });

    expect(downloads.map((d) => d.suggestedFilename())).toEqual(['set.zip']);
    const archive = readZip(readFileSync(await downloads[0].path()));
    expect(archive.files.map((f) => f.name)).toEqual(['set/b-after.txt']);
    expect(createHash('sha256').update(archive.files[0].data).digest('hex')).toBe(
      suite.files.hashes.get('zipcancel/set/b-after.txt'),
    );
  });
});
