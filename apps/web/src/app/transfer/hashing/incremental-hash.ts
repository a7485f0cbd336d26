import { createSHA256, type IHasher } from 'hash-wasm';

/** A SHA-256 fed piece by piece (WebCrypto has no streaming digest). */
export interface IncrementalHash {
  /** The next bytes; the caller may reuse their memory once this returns. */
  update(bytes: Uint8Array): void;
  /**
   * The next bytes, whose memory the hash takes over: it may hand their
   * buffers to another thread without a copy (detaching them here), so the
   * caller must not touch them again.
   */
  take(pieces: readonly Uint8Array[]): void;
  /** Resolves when the hash has caught up enough to take more (bounds its backlog). */
  settle(): Promise<void>;
  digest(): Promise<Uint8Array>;
  /** The result is no longer wanted (a cancelled or failed download): frees what the hash holds. */
  drop(): void;
}

/** Makes the hash for a file of `size` bytes (lets big files hash off the main thread). */
export interface HashFactory {
  (size: number): IncrementalHash;
  /**
   * The digest of a whole file the page holds (a shared File), where this
   * factory can read it somewhere better than the page (a worker reading it
   * into its own reused memory); null where it cannot, and the caller reads
   * the file and feeds a hash from this factory.
   */
  readonly wholeFile?: (file: Blob) => Promise<Uint8Array> | null;
}

// hash-wasm gives every hasher its own WebAssembly instance and memory, and
// V8 reclaims those only with a full garbage collection: a page that made
// one per file ran out of WebAssembly memory after ~125 small files
// ("WebAssembly.instantiate(): Out of memory", measured with
// tools/bench/run.sh web-transfer --case small). Finished hashers are
// reset and reused instead. The pool holds as many as a receiver can have
// hashing at once: every open file (MAX_OPEN_FILES, 64: those in the
// pipeline and those being verified and closed) holds one until its digest.
// A smaller pool turns each burst above it into instances only V8 knows
// when to collect: a pool of 8 failed files after ~400 of them; a pool of
// 32 failed ~30 of 1000 once the pipeline was deep enough to keep ~48 files
// open (and could have with 16 pipelined whenever closing on disk lagged).
// The worker's pool is this one too; it only ever holds the few big files'
// hashers it made, so both stay well under the ~125 a renderer allows.
export const MAX_IDLE_HASHERS = 64;
const idleHashers: IHasher[] = [];

/**
 * Hashes on the calling thread with hash-wasm's WebAssembly SHA-256 (a
 * maintained library; ~400 MB/s in Chromium here, against ~175 MB/s for
 * @noble/hashes' JavaScript, and every file is hashed on both sides of a
 * transfer). Its instance comes from a pool of finished ones, or is created
 * asynchronously: pieces that come before it is ready (the first few
 * milliseconds) are copied and replayed.
 */
export class InlineSha256 implements IncrementalHash {
  private hasher: IHasher | null = null;
  private early: Uint8Array[] = [];
  private readonly ready: Promise<IHasher>;
  private result: Promise<Uint8Array> | null = null;

  constructor() {
    const reused = idleHashers.pop();
    if (reused) {
      reused.init();
      this.hasher = reused;
      this.ready = Promise.resolve(reused);
      return;
    }
    this.ready = createSHA256().then((hasher) => {
      hasher.init();
      for (const piece of this.early) hasher.update(piece);
      this.early = [];
      this.hasher = hasher;
      return hasher;
    });
    // A failure surfaces from settle() and digest(); never as an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  update(bytes: Uint8Array): void {
    if (this.result) throw new Error('hash already finished');
    if (this.hasher) this.hasher.update(bytes);
    else this.early.push(bytes.slice());
  }

  take(pieces: readonly Uint8Array[]): void {
    if (this.result) throw new Error('hash already finished');
    // Ours now: kept as they are until the instance is ready, not copied.
    for (const piece of pieces) {
      if (this.hasher) this.hasher.update(piece);
      else this.early.push(piece);
    }
  }

  async settle(): Promise<void> {
    if (!this.hasher) await this.ready;
  }

  /** The digest (the same on every call); the instance then goes back to the pool. */
  digest(): Promise<Uint8Array> {
    this.result ??= this.ready.then((hasher) => {
      const digest = hasher.digest('binary');
      this.release(hasher);
      return digest;
    });
    return this.result;
  }

  drop(): void {
    if (this.result) return;
    this.early = [];
    this.result = Promise.reject(new Error('hash dropped'));
    this.result.catch(() => undefined);
    // Its instance goes back to the pool once it exists (reset when reused).
    this.ready.then((hasher) => this.release(hasher)).catch(() => undefined);
  }

  private release(hasher: IHasher): void {
    this.hasher = null;
    if (idleHashers.length < MAX_IDLE_HASHERS) idleHashers.push(hasher);
  }
}

export const inlineSha256: HashFactory = () => new InlineSha256();
