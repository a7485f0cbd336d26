import { HashFactory, inlineSha256 } from '../hashing/incremental-hash';
import { constantTimeEqual } from '../auth/share-authenticator';
import { FileSink } from '../save/file-sink';

export class FileOverrunError extends Error {
  constructor(size: number) {
    super(`received more than the announced ${size} bytes`);
    this.name = 'FileOverrunError';
  }
}

// Chunks are gathered into writes of 3 to 4 MiB: each File System Access
// write is a round trip to the browser process, and measured here 64 KiB
// writes ran at ~67 MB/s against ~330 MB/s for 1 MiB ones; 3-4 MiB writes
// cost the receiver's browser process ~1 CPU-s/GiB less again than 1 MiB
// ones, and as each write is acknowledged, the sender's page re-renders less
// often. (The sender's 8 MiB flow window leaves a write the time it takes to
// receive another 5 MiB, ~0.13 s at 40 MB/s, before the sender waits.)
const MIN_WRITE_BYTES = 3 * 1024 * 1024;
const MAX_COALESCED_WRITE_BYTES = 4 * 1024 * 1024;

/**
 * One file being received: writes bytes to its sink in arrival order and
 * hashes them in the same order. A piece is handed to the hash once the
 * write no longer needs it (copied into a batch, or written), so the hash
 * may take its memory (a worker: zero-copy). It outlives a peer connection,
 * so after a drop the next connection asks for the file from
 * `bytesReceived` and the hash continues.
 */
export class IncomingFile {
  private received = 0;
  private written = 0;
  private readonly hasher;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  // One reusable buffer for coalesced writes: every write is awaited before
  // the next batch is assembled, so a 1 GiB download does not allocate (and
  // leave for the garbage collector) hundreds of fresh 4 MiB buffers.
  private batchBuffer: Uint8Array | null = null;
  private flushRequested = false;
  private writing = false;
  private failure: unknown = null;
  private idleWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private finished = false;

  /** Called after each disk write with the absolute bytes written. */
  onWritten: ((bytesWritten: number) => void) | null = null;

  constructor(
    readonly fileId: number,
    readonly size: number,
    private readonly sink: FileSink,
    hash: HashFactory = inlineSha256,
  ) {
    this.hasher = hash(size);
  }

  /** Bytes received in order and hashed; where a resumed request starts. */
  get bytesReceived(): number {
    return this.received;
  }

  get bytesWritten(): number {
    return this.written;
  }

  get complete(): boolean {
    return this.received === this.size;
  }

  get writeError(): unknown {
    return this.failure;
  }

  append(payload: Uint8Array): void {
    if (this.finished) throw new Error('file already finished');
    if (this.failure) throw this.failure;
    if (this.received + payload.length > this.size) throw new FileOverrunError(this.size);
    this.received += payload.length;
    this.pending.push(payload);
    this.pendingBytes += payload.length;
    this.maybeDrain();
  }

  /** Resolves once every received byte is written (rejects on a write error). */
  flushed(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.writing && this.pending.length === 0) return Promise.resolve();
    this.flushRequested = true;
    const idle = new Promise<void>((resolve, reject) => this.idleWaiters.push({ resolve, reject }));
    this.maybeDrain();
    return idle;
  }

  /**
   * Flushes, then compares the SHA-256 of what was received with the
   * sender's: a match closes the sink (the file takes its real name), a
   * mismatch aborts it (the file is deleted) and returns false. Nothing
   * unverified is ever committed.
   */
  async finish(expectedSha256: Uint8Array): Promise<boolean> {
    if (!this.complete) throw new Error(`finish at ${this.received} of ${this.size} bytes`);
    await this.flushed();
    this.finished = true;
    if (!constantTimeEqual(await this.hasher.digest(), expectedSha256)) {
      await this.sink.abort().catch(() => undefined);
      return false;
    }
    await this.sink.close();
    return true;
  }

  async abort(): Promise<void> {
    this.finished = true;
    this.pending = [];
    this.pendingBytes = 0;
    this.hasher.drop();
    await this.sink.abort().catch(() => undefined);
  }

  /** Whether the queued bytes should be written now rather than gathered further. */
  private get shouldWrite(): boolean {
    return (
      this.pending.length > 0 &&
      (this.pendingBytes >= MIN_WRITE_BYTES || this.flushRequested || this.received === this.size)
    );
  }

  private maybeDrain(): void {
    if (!this.writing && this.shouldWrite) void this.drain();
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.shouldWrite) {
        // A hash running in a worker can fall behind when the CPU is busy;
        // writes (and so the acknowledgements that open the sender's
        // window) wait for it, which bounds its backlog too.
        await this.hasher.settle();
        const { batch, parts } = this.takeBatch();
        this.pendingBytes -= batch.length;
        // Copied into the batch: the parts are free now, and hash while it is written.
        const copied = batch !== parts[0];
        if (copied) this.hasher.take(parts);
        await this.sink.write(batch);
        // Written from the part itself: free once the write resolved (FileSink).
        if (!copied) this.hasher.take(parts);
        this.written += batch.length;
        this.onWritten?.(this.written);
      }
    } catch (error) {
      this.failure = error;
    } finally {
      this.writing = false;
      if (this.pending.length === 0) this.flushRequested = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const waiter of waiters) {
        if (this.failure) waiter.reject(this.failure);
        else waiter.resolve();
      }
    }
  }

  /** The next write: one part as it is, or several copied into the batch buffer. */
  private takeBatch(): { batch: Uint8Array; parts: Uint8Array[] } {
    if (this.pending.length === 1) {
      const parts = this.pending.splice(0, 1);
      return { batch: parts[0], parts };
    }
    let count = 0;
    let bytes = 0;
    while (
      count < this.pending.length &&
      (count === 0 || bytes + this.pending[count].length <= MAX_COALESCED_WRITE_BYTES)
    ) {
      bytes += this.pending[count].length;
      count++;
    }
    const parts = this.pending.splice(0, count);
    if (count === 1) return { batch: parts[0], parts };
    this.batchBuffer ??= new Uint8Array(MAX_COALESCED_WRITE_BYTES);
    const batch = this.batchBuffer.subarray(0, bytes);
    let at = 0;
    for (const part of parts) {
      batch.set(part, at);
      at += part.length;
    }
    return { batch, parts };
  }
}
