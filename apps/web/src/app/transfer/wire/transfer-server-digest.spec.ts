import { FileEntry } from '@ephemeral/protocol';
import { createHash } from 'node:crypto';

import { HashFactory, IncrementalHash, InlineSha256 } from '../hashing/incremental-hash';
import { SharedFileDigests, SMALL_DIGEST_LANES } from '../hashing/shared-file-digests';
import { FakeChannel } from '../rtc/fake-channel';
import { MemorySink } from '../save/memory-sink';
import { IncomingFile } from './incoming-file';
import { sentControl, transferPair, turn } from './transfer-pair';
import { SharedFile } from './transfer-server';

function shared(id: number, bytes: Uint8Array): SharedFile {
  const entry: FileEntry = {
    id,
    name: `f${id}.bin`,
    relativePath: `f${id}.bin`,
    size: bytes.length,
    type: 'application/octet-stream',
    lastModifiedUnixMs: 0,
  };
  return {
    entry,
    source: {
      size: bytes.length,
      slice: (a, b) => ({ arrayBuffer: async () => bytes.slice(a, b).buffer }),
    },
  };
}

/**
 * The sender's background hashing (SharedFileDigests, from the moment a file
 * is added) stalled after its first block until `release()`: a big file
 * whose hash has not finished when the receiver asks for it.
 */
function stalledHashing(stalls: (size: number) => boolean = () => true): {
  hash: HashFactory;
  release: () => void;
} {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const hash: HashFactory = (size) => {
    const inner = new InlineSha256();
    if (!stalls(size)) return inner;
    const stalled: IncrementalHash = {
      update: (bytes) => inner.update(bytes),
      take: (pieces) => inner.take(pieces),
      settle: async () => {
        await inner.settle();
        await gate;
      },
      digest: () => inner.digest(),
      drop: () => inner.drop(),
    };
    return stalled;
  };
  return { hash, release };
}

/** A small file whose reads (of any kind) are counted. */
function counted(id: number, bytes: Uint8Array): SharedFile & { reads: () => number } {
  let reads = 0;
  const file = shared(id, bytes);
  return {
    entry: file.entry,
    source: {
      size: bytes.length,
      slice: (a, b) => (reads++, file.source.slice(a, b)),
      arrayBuffer: async () => (reads++, bytes.slice().buffer),
    },
    reads: () => reads,
  };
}

function connect(files: SharedFile[], hash: HashFactory, hashReadBytes = false) {
  const digests = new SharedFileDigests(hash);
  // As ShareHost does: every file is hashed from the moment it is added.
  for (const file of files) digests.digestOf(file.entry.id, file.source).catch(() => undefined);
  return transferPair(files, {
    digestOf: (file) => digests.digestOf(file.entry.id, file.source),
    // As ShareHost does, when asked: bytes read to send are hashed there.
    readForSending: hashReadBytes
      ? (file, bytes) => digests.hashRead(file.entry.id, bytes)
      : undefined,
  });
}

const doneMessages = (channel: FakeChannel) =>
  sentControl(channel).filter((m) => m.kind?.$case === 'done');

describe("TransferServer when the sender's hash of a file is not done", () => {
  it('sends every byte at once; FileDone (with the digest) follows when the hash is ready', async () => {
    const bytes = Uint8Array.from({ length: 2 * 1024 * 1024 + 5 }, (_, i) => (i * 7) % 251);
    const { hash, release } = stalledHashing();
    const { client, manifest, controlS } = connect([shared(1, bytes)], hash);
    await manifest;
    const file = new IncomingFile(1, bytes.length, new MemorySink());
    let done = false;
    const fetched = client.fetch(file).then((d) => ((done = true), d));
    // Every byte arrives while the sender's hash is still stalled.
    const deadline = Date.now() + 20_000;
    while (file.bytesReceived < bytes.length && Date.now() < deadline) await turn();
    expect(file.bytesReceived).toBe(bytes.length);
    for (let i = 0; i < 10; i++) await turn();
    expect(done).toBe(false);
    expect(doneMessages(controlS)).toHaveLength(0);

    release();
    const fileDone = await fetched;
    expect(Buffer.from(fileDone.sha256).toString('hex')).toBe(
      createHash('sha256').update(bytes).digest('hex'),
    );
    expect(await file.finish(fileDone.sha256)).toBe(true);
  }, 30_000);

  it("sends the next requested file's bytes while an earlier file's digest is pending", async () => {
    const first = Uint8Array.from({ length: 1536 * 1024 }, (_, i) => i % 253);
    const second = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 3) % 241);
    const { hash, release } = stalledHashing();
    const { client, manifest } = connect([shared(1, first), shared(2, second)], hash);
    await manifest;
    const a = new IncomingFile(1, first.length, new MemorySink());
    const b = new IncomingFile(2, second.length, new MemorySink());
    const fetchedA = client.fetch(a);
    const fetchedB = client.fetch(b);
    const deadline = Date.now() + 20_000;
    while (b.bytesReceived < second.length && Date.now() < deadline) await turn();
    expect(a.bytesReceived).toBe(first.length);
    expect(b.bytesReceived).toBe(second.length);

    release();
    const [doneA, doneB] = await Promise.all([fetchedA, fetchedB]);
    expect(await a.finish(doneA.sha256)).toBe(true);
    expect(await b.finish(doneB.sha256)).toBe(true);
  }, 30_000);

  it('reads a small file once: the bytes sent are hashed when the hasher has not read it yet', async () => {
    // Eight big-ish files, one per small-file lane, whose hashes stall: the
    // small files queued behind them are not hashed before they are sent.
    const BLOCKER = 7_777;
    const blockers = Array.from({ length: SMALL_DIGEST_LANES }, (_, i) =>
      counted(
        i + 1,
        Uint8Array.from({ length: BLOCKER }, (_, j) => (i + j) % 256),
      ),
    );
    const small = Array.from({ length: 12 }, (_, i) =>
      counted(
        100 + i,
        Uint8Array.from({ length: 1000 + i * 97 }, (_, j) => (i * 13 + j) % 251),
      ),
    );
    const { hash, release } = stalledHashing((size) => size === BLOCKER);
    const { client, manifest } = connect([...blockers, ...small], hash, true);
    await manifest;
    const incoming = small.map((f) => new IncomingFile(f.entry.id, f.entry.size, new MemorySink()));
    // Every small file arrives, verified, while the background hasher is still stuck.
    const done = await Promise.all(incoming.map((file) => client.fetch(file)));
    for (const [i, file] of incoming.entries())
      expect(await file.finish(done[i].sha256)).toBe(true);
    expect(small.map((f) => f.reads())).toEqual(small.map(() => 1));

    // The hasher's turn for them comes and goes without reading them again.
    release();
    for (let i = 0; i < 50; i++) await turn();
    expect(blockers.map((f) => f.reads())).toEqual(blockers.map(() => 1));
    expect(small.map((f) => f.reads())).toEqual(small.map(() => 1));
  }, 30_000);
});
