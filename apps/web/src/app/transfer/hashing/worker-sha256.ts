import { FromHashWorker, ToHashWorker } from './hash-worker-protocol';
import { HashFactory, IncrementalHash, InlineSha256 } from './incremental-hash';

/** The part of a Worker the client uses; unit specs pass one that runs HashWorkerCore in-process. */
export interface HashWorkerLike {
  postMessage(message: ToHashWorker, transfer: Transferable[]): void;
  onmessage: ((event: { data: FromHashWorker }) => void) | null;
  onerror: ((event: { message?: string }) => void) | null;
  onmessageerror: ((event: unknown) => void) | null;
  terminate(): void;
}

// At most this much handed to the worker and not yet hashed, across all of
// the page's hashes. The worker hashes at ~400 MB/s and a transfer here runs
// at 30–40 MB/s, so it only fills when the worker gets no CPU; then the
// receiver's writes, and with them the acknowledgements that open the
// sender's flow window, wait for it (IncomingFile.drain), and memory stays
// this plus one flow window. A sender's file is read faster than it is
// hashed, so there it paces the reads.
export const MAX_BACKLOG_BYTES = 8 * 1024 * 1024;
// A piece is moved to the worker (its buffer detached, no copy) when it is
// all of its buffer but a frame header (a data-channel message less its
// 4-byte chunk header, a block read from a file). A view into a larger
// buffer may share it with bytes the caller still needs: it is copied.
const MAX_UNSHARED_SLACK_BYTES = 16;
// An idle worker (no hash open) is ended after this long; the next file
// starts another (a few milliseconds, and its WebAssembly compile).
const IDLE_WORKER_MS = 30_000;

/** The worker failed (it did not load, or threw); every hash open in it fails with this. */
export class HashWorkerError extends Error {
  constructor(detail: string) {
    super(`the SHA-256 worker failed: ${detail}`);
    this.name = 'HashWorkerError';
  }
}

interface OpenHash {
  failure: Error | null;
  /** The digest's promise, once asked for. */
  digest: { resolve: (sha256: Uint8Array) => void; reject: (error: Error) => void } | null;
}

/**
 * The page's one SHA-256 worker (sha256.worker.ts), shared by every hash of
 * the page, started when first needed and ended when idle. Pieces go to it
 * as transferred buffers (zero-copy), and what it has been given but not
 * yet hashed is bounded ({@link MAX_BACKLOG_BYTES}): `settle()` waits while
 * it is over. If the worker fails, every open hash fails with a
 * {@link HashWorkerError}, and the next hash starts a new worker.
 */
export class HashWorkerClient {
  private worker: HashWorkerLike | null = null;
  private readonly open = new Map<number, OpenHash>();
  private nextId = 1;
  private backlogBytes = 0;
  private waiters: Array<() => void> = [];
  private idleTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly spawn: () => HashWorkerLike,
    private readonly maxBacklogBytes = MAX_BACKLOG_BYTES,
    private readonly idleMs = IDLE_WORKER_MS,
  ) {}

  /** Bytes handed to the worker and not yet hashed. */
  get backlog(): number {
    return this.backlogBytes;
  }

  /** Whether a worker is running. */
  get running(): boolean {
    return this.worker !== null;
  }

  /** A new hash in the worker. */
  hash(): IncrementalHash {
    return new WorkerSha256(this, this.begin());
  }

  /** The digest of a whole file, read by the worker itself (nothing of it passes through the page). */
  digestFile(file: Blob): Promise<Uint8Array> {
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.open.set(id, { failure: null, digest: { resolve, reject } });
      this.clearIdle();
      this.send({ kind: 'file', id, file }, []);
    });
  }

  /** @internal (WorkerSha256) */
  begin(): number {
    const id = this.nextId++;
    this.open.set(id, { failure: null, digest: null });
    this.clearIdle();
    this.send({ kind: 'start', id }, []);
    return id;
  }

  /** @internal (WorkerSha256) Moves `pieces` to the worker; copies those that share their buffer. */
  update(id: number, pieces: readonly Uint8Array[]): void {
    this.check(id);
    const moved: Uint8Array[] = [];
    const transfer = new Set<ArrayBuffer>();
    let bytes = 0;
    for (const piece of pieces) {
      if (piece.length === 0) continue;
      const buffer = piece.buffer;
      const own =
        buffer instanceof ArrayBuffer &&
        !transfer.has(buffer) &&
        buffer.byteLength - piece.byteLength <= MAX_UNSHARED_SLACK_BYTES;
      const sent = own ? piece : piece.slice();
      transfer.add(sent.buffer as ArrayBuffer);
      moved.push(sent);
      bytes += sent.length;
    }
    if (moved.length > 0 && this.send({ kind: 'update', id, pieces: moved }, [...transfer]))
      this.backlogBytes += bytes;
  }

  /** @internal (WorkerSha256) Resolves once the backlog is under the bound; rejects if `id` failed. */
  async settle(id: number): Promise<void> {
    this.check(id);
    while (this.backlogBytes > this.maxBacklogBytes) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
      this.check(id);
    }
  }

  /** @internal (WorkerSha256) */
  digest(id: number): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      const hash = this.open.get(id);
      if (!hash) return reject(new Error(`hash ${id} is not open`));
      if (hash.failure) {
        this.end(id);
        return reject(hash.failure);
      }
      hash.digest = { resolve, reject };
      this.send({ kind: 'digest', id }, []);
    });
  }

  /** @internal (WorkerSha256) */
  drop(id: number): void {
    const hash = this.open.get(id);
    if (!hash) return;
    this.end(id);
    // A failed hash is already gone from the worker (or the worker is).
    if (!hash.failure) this.send({ kind: 'drop', id }, []);
  }

  private check(id: number): void {
    const hash = this.open.get(id);
    if (!hash) throw new Error(`hash ${id} is not open`);
    if (hash.failure) throw hash.failure;
  }

  /** False (and the hash failed) when it could not be sent. */
  private send(message: ToHashWorker, transfer: Transferable[]): boolean {
    try {
      (this.worker ?? this.start()).postMessage(message, transfer);
      return true;
    } catch (error) {
      // Nothing was sent (the worker could not be made, a buffer could not
      // be moved): this hash fails, the others go on.
      this.failHash(message.id, new HashWorkerError(describe(error)));
      return false;
    }
  }

  private start(): HashWorkerLike {
    const worker = this.spawn();
    this.worker = worker;
    worker.onmessage = (event) => this.onMessage(event.data);
    worker.onerror = (event) => this.crashed(worker, event.message || 'it stopped');
    worker.onmessageerror = () => this.crashed(worker, 'a message could not be read');
    return worker;
  }

  private onMessage(message: FromHashWorker): void {
    switch (message.kind) {
      case 'hashed':
        this.backlogBytes = Math.max(0, this.backlogBytes - message.bytes);
        if (this.backlogBytes <= this.maxBacklogBytes) this.wake();
        break;
      case 'digest': {
        const hash = this.open.get(message.id);
        this.end(message.id);
        hash?.digest?.resolve(message.sha256);
        break;
      }
      case 'failed':
        this.failHash(message.id, new HashWorkerError(message.message));
        break;
    }
  }

  private failHash(id: number, error: Error): void {
    const hash = this.open.get(id);
    if (!hash || hash.failure) return;
    hash.failure = error;
    if (hash.digest) {
      this.end(id);
      hash.digest.reject(error);
    }
    this.wake();
  }

  /** The worker is gone: every open hash fails, the backlog with it, and the next hash starts another. */
  private crashed(worker: HashWorkerLike, detail: string): void {
    if (this.worker !== worker) return;
    this.worker = null;
    worker.terminate();
    this.backlogBytes = 0;
    for (const id of [...this.open.keys()]) this.failHash(id, new HashWorkerError(detail));
  }

  private end(id: number): void {
    this.open.delete(id);
    if (this.open.size === 0) this.scheduleIdle();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private scheduleIdle(): void {
    this.clearIdle();
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.open.size > 0 || !this.worker) return;
      this.worker.terminate();
      this.worker = null;
      this.backlogBytes = 0;
    }, this.idleMs);
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}

/** One hash in the page's worker. */
export class WorkerSha256 implements IncrementalHash {
  private result: Promise<Uint8Array> | null = null;

  constructor(
    private readonly client: HashWorkerClient,
    private readonly id: number,
  ) {}

  update(bytes: Uint8Array): void {
    // The caller keeps its memory: the worker gets a copy.
    this.take([bytes.slice()]);
  }

  take(pieces: readonly Uint8Array[]): void {
    if (this.result) throw new Error('hash already finished');
    this.client.update(this.id, pieces);
  }

  settle(): Promise<void> {
    return this.result ? Promise.resolve() : this.client.settle(this.id);
  }

  digest(): Promise<Uint8Array> {
    this.result ??= this.client.digest(this.id);
    return this.result;
  }

  drop(): void {
    if (this.result) return;
    this.result = Promise.reject(new Error('hash dropped'));
    this.result.catch(() => undefined);
    this.client.drop(this.id);
  }
}

// Files below this hash on the calling thread: for them the worker's round
// trips (a start, an update and a digest message, each a task on both
// threads) cost the page about what hashing a few KiB inline does (~10 µs
// per 4 KiB at ~400 MB/s), and ten thousand small files would be thirty
// thousand messages. Bigger files are where the CPU goes.
export const WORKER_MIN_BYTES = 1024 * 1024;

/**
 * Files of WORKER_MIN_BYTES or more hash in `client`'s worker, smaller ones
 * inline; such a file the page holds whole is read by the worker itself.
 */
export function sha256InWorker(client: HashWorkerClient): HashFactory {
  return Object.assign(
    (size: number) => (size >= WORKER_MIN_BYTES ? client.hash() : new InlineSha256()),
    {
      wholeFile: (file: Blob) => (file.size >= WORKER_MIN_BYTES ? client.digestFile(file) : null),
    },
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
