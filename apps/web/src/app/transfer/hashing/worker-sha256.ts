import { HashFactory, IncrementalHash, InlineSha256 } from './incremental-hash';

// Hashing (hash-wasm, see incremental-hash.ts) runs at ~400 MB/s here; in a worker
// it runs beside the transfer instead of between sends on the page's thread,
// which must answer `bufferedamountlow` promptly. Pieces are batched into
// 1 MiB buffers handed over without copying, so the worker gets ~30 messages/s.
const BATCH_BYTES = 1024 * 1024;
// Spawning a worker costs a few milliseconds; small files hash inline.
const WORKER_THRESHOLD_BYTES = 8 * 1024 * 1024;
// At most this much handed to the worker and not yet hashed: a shared file
// is read from disk (SharedFileDigests) faster than the worker hashes it.
const MAX_BACKLOG_BYTES = 8 * 1024 * 1024;

/** SHA-256 computed in a dedicated worker (browser only). */
export class WorkerSha256 implements IncrementalHash {
  private readonly worker = new Worker(new URL('./sha256.worker', import.meta.url), {
    type: 'module',
  });
  private batch = new Uint8Array(BATCH_BYTES);
  private filled = 0;
  private failure: unknown = null;
  private backlog = 0;
  private wake: (() => void) | null = null;

  constructor() {
    this.worker.onerror = (event) => {
      this.failure = new Error(`hash worker failed: ${event.message}`);
      this.notify();
    };
    this.worker.onmessage = (event: MessageEvent<number>) => {
      this.backlog -= event.data;
      this.notify();
    };
  }

  async settle(): Promise<void> {
    while (this.backlog > MAX_BACKLOG_BYTES && !this.failure) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.failure) throw this.failure;
  }

  update(bytes: Uint8Array): void {
    for (let at = 0; at < bytes.length;) {
      const n = Math.min(bytes.length - at, BATCH_BYTES - this.filled);
      this.batch.set(bytes.subarray(at, at + n), this.filled);
      this.filled += n;
      at += n;
      if (this.filled === BATCH_BYTES) this.flush();
    }
  }

  digest(): Promise<Uint8Array> {
    this.flush();
    return new Promise((resolve, reject) => {
      if (this.failure) {
        reject(this.failure);
        return;
      }
      this.worker.onmessage = (event: MessageEvent<Uint8Array | number>) => {
        // Piece acknowledgements may still be in flight before the digest.
        if (typeof event.data === 'number') return;
        resolve(event.data);
        this.worker.terminate();
      };
      this.worker.onerror = (event) => {
        reject(new Error(`hash worker failed: ${event.message}`));
        this.worker.terminate();
      };
      this.worker.postMessage('digest');
    });
  }

  private flush(): void {
    if (this.filled === 0) return;
    const piece = this.filled === BATCH_BYTES ? this.batch : this.batch.slice(0, this.filled);
    this.backlog += piece.length;
    this.worker.postMessage(piece, [piece.buffer]);
    this.batch = new Uint8Array(BATCH_BYTES);
    this.filled = 0;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

/** Big files hash in a worker, small ones inline. */
export const workerSha256: HashFactory = (size) =>
  size >= WORKER_THRESHOLD_BYTES && typeof Worker !== 'undefined'
    ? new WorkerSha256()
    : new InlineSha256();
