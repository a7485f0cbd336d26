import { FileSource, READ_BLOCK_BYTES, readFileBlock } from '../files/file-source';
import { HashFactory } from './incremental-hash';

/** The SHA-256 of one whole file, read block by block. */
export async function digestFile(
  source: FileSource,
  hash: HashFactory,
  blockBytes = READ_BLOCK_BYTES,
): Promise<Uint8Array> {
  // A File the hash can read itself (the worker): no block passes through here.
  const whole = isBlob(source) ? hash.wholeFile?.(source) : null;
  if (whole) return whole;
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

function isBlob(source: FileSource): source is FileSource & Blob {
  return typeof Blob !== 'undefined' && source instanceof Blob;
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

interface Digest {
  readonly promise: Promise<Uint8Array>;
  /** The background hasher began reading the file: bytes read for sending are not hashed too. */
  started: boolean;
  /** Settled (by the hasher or from bytes read for sending): later results are ignored. */
  settled: boolean;
  resolve(digest: Uint8Array): void;
  reject(error: unknown): void;
}

export class SharedFileDigests {
  private readonly digests = new Map<number, Digest>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly lanes: Promise<unknown>[] = Array.from({ length: SMALL_DIGEST_LANES }, () =>
    Promise.resolve(),
  );
  private nextLane = 0;

  constructor(private readonly hash: HashFactory) {}

  /** The file's digest; starts computing it (after those queued) if not yet known. */
  digestOf(fileId: number, source: FileSource): Promise<Uint8Array> {
    const known = this.digests.get(fileId);
    if (known) return known.promise;
    const digest = this.entry(fileId);
    const lane = source.size <= SMALL_DIGEST_BYTES ? this.nextLane : -1;
    if (lane >= 0) this.nextLane = (lane + 1) % SMALL_DIGEST_LANES;
    const after = lane >= 0 ? this.lanes[lane] : this.queue;
    const run = after.then(async () => {
      if (this.digests.get(fileId) !== digest) throw new FileRemovedError(fileId);
      // Already hashed from the bytes read for sending: no second read.
      if (digest.settled) return;
      digest.started = true;
      digest.resolve(await digestFile(source, this.hash));
    });
    const done = run.catch((error: unknown) => digest.reject(error));
    if (lane >= 0) this.lanes[lane] = done;
    else this.queue = done;
    return digest.promise;
  }

  /**
   * A small file's whole content, just read for sending: when the background
   * hasher has not begun reading it yet, the digest is these bytes' hash and
   * the hasher skips the file, so it is read once instead of twice (ADR 0031).
   * The bytes are copied (a worker hash takes its input's memory; the pump
   * still sends them). A file edited on disk before either read is hashed as
   * it is then, as before; one edited after its digest is known still fails
   * the receiver's check.
   */
  hashRead(fileId: number, bytes: Uint8Array): void {
    const digest = this.digests.get(fileId);
    if (!digest || digest.started || digest.settled) return;
    digest.settled = true;
    const hasher = this.hash(bytes.byteLength);
    hasher.take([bytes.slice()]);
    hasher
      .settle()
      .then(() => hasher.digest())
      .then(
        (value) => digest.resolve(value),
        (error: unknown) => digest.reject(error),
      );
  }

  /** The file left the share: its digest is dropped (and skipped if still queued). */
  forget(fileId: number): void {
    this.digests.delete(fileId);
  }

  private entry(fileId: number): Digest {
    let resolve!: (digest: Uint8Array) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<Uint8Array>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const digest: Digest = {
      promise,
      started: false,
      settled: false,
      resolve: (value) => {
        digest.settled = true;
        resolve(value);
      },
      reject: (error) => {
        digest.settled = true;
        // A digest that failed is forgotten, so the next request tries again.
        if (this.digests.get(fileId) === digest) this.digests.delete(fileId);
        reject(error);
      },
    };
    this.digests.set(fileId, digest);
    return digest;
  }
}
