import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { readZip } from '@ephemeral/testing';
import {
  ChromiumPeer,
  type Engine,
  filesSettled,
  FirefoxPeer,
  listedFiles,
  type Peer,
  receiveState,
  shareFrom,
} from '@ephemeral/browser-testing';
import { enginesSuite } from './share-suite';

const MB = 1024 * 1024;
/**
 * Small files in the folder (1–16 KiB): several go in one packed data
 * message and their requests, FileDones and acknowledgements in batches
 * (ADR 0037), so each pair of engines decodes the other's.
 */
const SMALL_FILES = 30;

/** Every pair of engines with Firefox on at least one end (Chromium → Chromium is the rest of the suite). */
const DIRECTIONS: ReadonlyArray<[Engine, Engine]> = [
  ['chromium', 'firefox'],
  ['firefox', 'chromium'],
  ['firefox', 'firefox'],
];

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/**
 * SHA-256 of what `peer` saved, by relative path, read from disk: Chromium
 * saves through the (stubbed) folder picker; Firefox, which has no File
 * System Access, downloads one file as itself or several as one zip.
 */
async function hashesOnDisk(peer: Peer, downloads: number): Promise<Record<string, string>> {
  if (peer instanceof ChromiumPeer) return peer.savedFileHashes();
  if (!(peer instanceof FirefoxPeer)) throw new Error(`unknown engine ${peer.engine}`);
  const out: Record<string, string> = {};
  for (const download of await peer.downloads(downloads, 90_000)) {
    const path = peer.inDownloadDir(download.filepath!);
    const bytes = readFileSync(path);
    if (path.endsWith('.zip')) for (const f of readZip(bytes).files) out[f.name] = sha256(f.data);
    else out[basename(path)] = sha256(bytes);
  }
  return out;
}

/**
 * Resolves once `peer`'s page shows a connection path (as the contract
 * says: data-path, and data-rtt-ms an integer); returns both.
 */
async function connectionPath(peer: Peer): Promise<{ path: string; rttMs: number }> {
  await peer.waitForFunction(
    () => {
      const el = document.querySelector('[data-testid=connection-path]');
      return el?.getAttribute('data-path') && /^\d+$/.test(el.getAttribute('data-rtt-ms') ?? '');
    },
    undefined,
    20_000,
  );
  return peer.evaluate(() => {
    const el = document.querySelector('[data-testid=connection-path]')!;
    return { path: el.getAttribute('data-path')!, rttMs: Number(el.getAttribute('data-rtt-ms')) };
  });
}

describe('the browser matrix on loopback: Chromium ↔ Firefox and Firefox → Firefox', () => {
  const suite = enginesSuite();
  const peers = suite.browsers;
  const launch = (engine: Engine, name: string): Promise<Peer> =>
    engine === 'chromium' ? peers.chromium(name) : peers.firefox(name);

  describe.each(DIRECTIONS)('%s → %s', (from, to) => {
    const tag = `${from[0]}${to[0]}`;

    it('moves several files and a folder, verified on disk; both pages show the direct path and its round trip', async () => {
      const loose = [
        suite.files.create(`${tag}-set/clip.bin`, 9 * MB + 7),
        suite.files.createText(`${tag}-set/notes.txt`, `from ${from} to ${to}\n`),
      ];
      suite.files.create(`${tag}-set/album/photos/one.jpg`, 3 * MB + 1);
      suite.files.createText(`${tag}-set/album/readme.txt`, 'a folder keeps its paths\n');
      suite.files.create(`${tag}-set/album/empty.bin`, 0);
      const small = Array.from({ length: SMALL_FILES }, (_, i) => `album/src/f${i}.txt`);
      small.forEach((path, i) =>
        suite.files.create(`${tag}-set/${path}`, 1024 + ((i * 7919) % (15 * 1024))),
      );
      const [sender, receiver] = await Promise.all([
        launch(from, `${tag}-tx`),
        launch(to, `${tag}-rx`),
      ]);
      const link = await shareFrom(
        sender,
        suite.stack.origin,
        loose,
        `${suite.files.root}/${tag}-set/album`,
      );
      await receiver.goto(link);
      await receiveState(receiver, 'ready');
      const expected = {
        'clip.bin': suite.files.hashes.get(`${tag}-set/clip.bin`),
        'notes.txt': suite.files.hashes.get(`${tag}-set/notes.txt`),
        'album/photos/one.jpg': suite.files.hashes.get(`${tag}-set/album/photos/one.jpg`),
        'album/readme.txt': suite.files.hashes.get(`${tag}-set/album/readme.txt`),
        'album/empty.bin': suite.files.hashes.get(`${tag}-set/album/empty.bin`),
        ...Object.fromEntries(small.map((p) => [p, suite.files.hashes.get(`${tag}-set/${p}`)])),
      };
      expect(await listedFiles(receiver)).toEqual(Object.keys(expected).sort());

      // On loopback the pair ICE picks is a direct one, and it has a round trip.
      for (const page of [receiver, sender]) {
        const { path, rttMs } = await connectionPath(page);
        expect(path).toBe('direct');
        expect(rttMs).toBeLessThan(1000);
      }

      await receiver.click('[data-testid=download-all]');
      const count = 5 + SMALL_FILES;
      const states = await filesSettled(receiver, count, 90_000);
      expect(Object.values(states)).toEqual(Array(count).fill('verified'));
      expect(await hashesOnDisk(receiver, 1)).toEqual(expected);
    });

    it('resumes a connection dropped mid-file from where it stopped; the file verifies on disk', async () => {
      const size = 40 * MB + 3;
      const path = suite.files.create(`${tag}-resume/large.bin`, size);
      const [sender, receiver] = await Promise.all([
        launch(from, `${tag}-tx-resume`),
        launch(to, `${tag}-rx-resume`),
      ]);
      const link = await shareFrom(sender, suite.stack.origin, [path]);
      await receiver.goto(link);
      await receiveState(receiver, 'ready');
      await receiver.click('[data-testid=download-all]');
      await receiver.waitForFunction(
        (n) => (window as unknown as { __e2e: { dataBytes: number } }).__e2e.dataBytes > n,
        size / 5,
        60_000,
      );
      await receiver.cutChannels();
      const atDrop = await receiver.dataBytes();
      expect(atDrop).toBeLessThan(size);

      expect(await filesSettled(receiver, 1, 90_000)).toEqual({ 'large.bin': 'verified' });
      expect(await hashesOnDisk(receiver, 1)).toEqual({
        'large.bin': suite.files.hashes.get(`${tag}-resume/large.bin`),
      });
      // Resumed, not restarted: about one file's bytes crossed the wire.
      expect(await receiver.dataBytes()).toBeLessThan(size + atDrop / 2);
    });

    it('refuses a link with the wrong secret on both ends, and reveals no file name', async () => {
      const secret = suite.files.createText(`${tag}-refuse/plans.txt`, 'for the right link only');
      const [sender, receiver] = await Promise.all([
        launch(from, `${tag}-tx-refuse`),
        launch(to, `${tag}-rx-refuse`),
      ]);
      const link = await shareFrom(sender, suite.stack.origin, [secret]);
      // Another 24-character secret, the sender's fingerprint kept.
      const wrong = link.replace(/#[A-Za-z0-9_-]{24}\./, `#${'Q'.repeat(24)}.`);
      expect(wrong).not.toBe(link);
      await receiver.goto(wrong);
      await receiveState(receiver, 'secret-mismatch');
      await sender.waitForSelector('[data-testid=receivers] li[data-state=rejected]', 15_000);
      expect(await receiver.evaluate(() => document.documentElement.outerHTML)).not.toContain(
        'plans.txt',
      );
    });
  });
});
