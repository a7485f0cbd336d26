import { FileSource, READ_BLOCK_BYTES, readFileBlock } from '../files/file-source';
import { HashFactory } from './incremental-hash';

/** The SHA-256 of one whole file, read block by block. */
export async function digestFile(
  source: FileSource,
  hash: HashFactory,
  blockBytes = READ_BLOCK_BYTES,
): Promise<Uint8Array> {
  const hasher = hash(source.size);
  for (let pos = 0; pos < source.size;) {
    const end = Math.min(source.size, pos + blockBytes);
    // A fresh buffer per block, so the hash may take it (a worker: no copy).
    hasher.take([await readFileBlock(source, pos, end)]);
    await hasher.settle();
    pos = end;
  }
  return hasher.digest();
}

export class FileRemovedError extends Error {
  constructor(fileId: number) {
    super(`file ${fileId} was removed from the share`);
    this.name = 'FileRemovedError';
  }
}

/**
 * The sender's SHA-256 of every shared file, computed once per file (not once
 * per receiver, nor again for the part a resumed receiver already has), in
 * the background from the moment the file is added, one file at a time. A
 * transfer needs the digest only for its final "done" message, so sending
 * never waits for it. A digest that failed (the file could not be read) is
 * forgotten, so the next request tries again.
 */
// Small files are hashed this many at a time (big ones one after another):
// each small file's digest is one read, a round trip to the browser
// process, and a FileDone waits for its digest, so ten thousand small files
// hashed one at a time (~5–10 ms each on this loaded machine) held up the
// transfer (tools/bench/run.sh web-transfer --case small).
export const SMALL_DIGEST_LANES = 8;
export const SMALL_DIGEST_BYTES = 256 * 1024;

export class SharedFileDigests {
  private readonly digests = new Map<number, Promise<Uint8Array>>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly lanes: Promise<unknown>[] = Array.from({ length: SMALL_DIGEST_LANES }, () =>
    Promise.resolve(),
  );
  private nextLane = 0;

  constructor(private readonly hash: HashFactory) {}

  /** The file's digest; starts computing it (after those queued) if not yet known. */
  digestOf(fileId: number, source: FileSource): Promise<Uint8Array> {
    const known = this.digests.get(fileId);
    if (known) return known;
    const lane = source.size <= SMALL_DIGEST_BYTES ? this.nextLane : -1;
    if (lane >= 0) this.nextLane = (lane + 1) % SMALL_DIGEST_LANES;
    const after = lane >= 0 ? this.lanes[lane] : this.queue;
    const digest: Promise<Uint8Array> = after.then(() => {
      if (this.digests.get(fileId) !== digest) throw new FileRemovedError(fileId);
      return digestFile(source, this.hash);
    });
    this.digests.set(fileId, digest);
    if (lane >= 0) this.lanes[lane] = digest.catch(() => undefined);
    else this.queue = digest.catch(() => undefined);
    digest.catch(() => {
      if (this.digests.get(fileId) === digest) this.digests.delete(fileId);
    });
    return digest;
  }

  /** The file left the share: its digest is dropped (and skipped if still queued). */
  forget(fileId: number): void {
    this.digests.delete(fileId);
  }
}
