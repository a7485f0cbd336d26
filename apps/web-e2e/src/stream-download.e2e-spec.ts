import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Download } from 'playwright-core';
import { BrowserPeer } from './browser-peer';
import { shareFiles, waitForFilesSettled, waitForReceiveState } from './pages';
import { ShareStack, startShareStack } from './share-stack';
import { TestFiles } from './test-files';

const MB = 1024 * 1024;

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

describe('web app: browsers without the File System Access API', () => {
  let stack: ShareStack;
  let files: TestFiles;
  const peers: BrowserPeer[] = [];

  beforeAll(async () => {
    stack = await startShareStack();
    files = new TestFiles();
  });

  afterAll(async () => {
    await Promise.all(peers.map((p) => p.close()));
    await stack?.stop();
    files?.remove();
  });

  it('streams files through the service worker into ordinary downloads, byte for byte', async () => {
    const big = files.create('stream/video.bin', 60 * MB);
    const small = files.createText('stream/notes.txt', 'streamed, not buffered\n');
    const sender = await BrowserPeer.launch('tx-stream');
    const receiver = await BrowserPeer.launch('rx-stream', 'download');
    peers.push(sender, receiver);

    const link = await shareFiles(sender.page, stack.origin, [big, small]);
    await receiver.page.goto(link);
    await waitForReceiveState(receiver.page, 'ready');

    const downloads: Download[] = [];
    receiver.page.on('download', (d) => downloads.push(d));
    await receiver.page.click('[data-testid=download-all]');
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
      'video.bin': files.hashes.get('stream/video.bin'),
      'notes.txt': files.hashes.get('stream/notes.txt'),
    });
  });
});
