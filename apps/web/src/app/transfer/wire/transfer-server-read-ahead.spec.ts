import { FileEntry } from '@ephemeral/protocol';
import { createHash } from 'node:crypto';

import { ConnectionFingerprints, ShareAuthenticator } from '../auth/share-authenticator';
import { generateSecret, parseSecret } from '../auth/share-secret';
import { FakeChannel } from '../rtc/fake-channel';
import { MemorySink } from '../save/memory-sink';
import { IncomingFile } from './incoming-file';
import { TransferClient } from './transfer-client';
import { READ_AHEAD_FILES, SharedFile, TransferServer } from './transfer-server';

const SENDER = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';
const RECEIVER = '6fa459ea-ee8a-4ca4-894e-db77e160355e';
const FINGERPRINTS: ConnectionFingerprints = {
  senderFingerprint: new Uint8Array(32).fill(0x5e),
  receiverFingerprint: new Uint8Array(32).fill(0x7e),
};
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Small files whose whole-file reads wait for `release()`, recording which were started. */
function slowFiles(count: number) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const started: number[] = [];
  const contents = new Map<number, Uint8Array>();
  const files: SharedFile[] = Array.from({ length: count }, (_, i) => {
    const id = i + 1;
    const bytes = Uint8Array.from({ length: 1000 + i * 100 }, (_, j) => (id * 31 + j) % 251);
    contents.set(id, bytes);
    const entry: FileEntry = {
      id,
      name: `f${id}.txt`,
      relativePath: `src/f${id}.txt`,
      size: bytes.length,
      type: 'text/plain',
      lastModifiedUnixMs: 0,
    };
    return {
      entry,
      source: {
        size: bytes.length,
        slice: (a: number, b: number) => ({ arrayBuffer: async () => bytes.slice(a, b).buffer }),
        arrayBuffer: async () => {
          started.push(id);
          await gate;
          return bytes.slice().buffer;
        },
      },
    };
  });
  return { files, contents, started, release };
}

function connect(files: SharedFile[], contents: ReadonlyMap<number, Uint8Array>) {
  const secret = parseSecret(generateSecret())!;
  const [controlS, controlR] = FakeChannel.pair('control');
  const [dataS, dataR] = FakeChannel.pair('data');
  const server = new TransferServer(
    controlS,
    dataS,
    new ShareAuthenticator(secret, SENDER, RECEIVER),
    () => FINGERPRINTS,
    () => files,
    () => 16 * 1024,
    // The digest (SharedFileDigests in the app) comes from a copy, not through the reads counted here.
    async (file) => createHash('sha256').update(contents.get(file.entry.id)!).digest(),
  );
  const client = new TransferClient(
    controlR,
    dataR,
    new ShareAuthenticator(secret, SENDER, RECEIVER),
    async () => FINGERPRINTS,
  );
  const manifest = new Promise<FileEntry[]>((resolve) => client.on('manifest', resolve));
  void server.start();
  void client.start();
  return { client, manifest };
}

describe('TransferServer reading ahead', () => {
  it('reads the next queued small files while the first is still being read', async () => {
    const count = READ_AHEAD_FILES + 4;
    const { files, contents, started, release } = slowFiles(count);
    const { client, manifest } = connect(files, contents);
    await manifest;
    const incoming = files.map((f) => new IncomingFile(f.entry.id, f.entry.size, new MemorySink()));
    const fetched = incoming.map((file) => client.fetch(file));
    for (let i = 0; i < 50 && started.length < 1 + READ_AHEAD_FILES; i++) await turn();
    // The first file's read has not returned, and the next ones are under way.
    expect(started).toEqual(Array.from({ length: 1 + READ_AHEAD_FILES }, (_, i) => i + 1));

    release();
    const done = await Promise.all(fetched);
    for (const [i, file] of incoming.entries())
      expect(await file.finish(done[i].sha256)).toBe(true);
    // Each file was read once (read ahead or not), never twice.
    expect([...started].sort((a, b) => a - b)).toEqual(files.map((f) => f.entry.id));
  }, 30_000);
});
