import { FileEntry } from '@ephemeral/protocol';
import { createHash } from 'node:crypto';

import { MemorySink } from '../save/memory-sink';
import { IncomingFile } from './incoming-file';
import { transferPair, turn } from './transfer-pair';
import { READ_AHEAD_FILES, SharedFile } from './transfer-server';

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
  return transferPair(files, {
    // The digest (SharedFileDigests in the app) comes from a copy, not through the reads counted here.
    digestOf: async (file) => createHash('sha256').update(contents.get(file.entry.id)!).digest(),
  });
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
