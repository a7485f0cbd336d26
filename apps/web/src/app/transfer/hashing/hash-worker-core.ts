import { BlockReader } from '../files/block-reader';

import { FromHashWorker, MAX_OPEN_HASHES, ToHashWorker } from './hash-worker-protocol';
import { IncrementalHash, InlineSha256 } from './incremental-hash';

export type PostToPage = (message: FromHashWorker, transfer: Transferable[]) => void;

/**
 * The SHA-256 worker's side of the protocol (sha256.worker.ts feeds it its
 * messages): hashes by ID, each an {@link InlineSha256} from the worker's
 * own pool of hash-wasm instances. Every update is acknowledged once
 * hashed, so the page can bound what it has handed over and not yet seen
 * hashed. A malformed message, an unknown ID or a failing hash is answered
 * with `failed` for that ID; the worker itself keeps serving the others.
 */
export class HashWorkerCore {
  private readonly open = new Map<number, IncrementalHash>();

  constructor(
    private readonly post: PostToPage,
    private readonly create: () => IncrementalHash = () => new InlineSha256(),
  ) {}

  /** Hashes open now. */
  get openHashes(): number {
    return this.open.size;
  }

  handle(data: unknown): void {
    const message = parseMessage(data);
    if (!message) {
      const id = idOf(data);
      if (id !== null) this.fail(id, 'malformed message');
      return;
    }
    const { id } = message;
    if (message.kind === 'start' || message.kind === 'file') {
      if (this.open.has(id)) this.fail(id, `hash ${id} is already open`);
      else if (this.open.size >= MAX_OPEN_HASHES)
        this.failed(id, `more than ${MAX_OPEN_HASHES} hashes open`);
      else {
        const hash = this.create();
        this.open.set(id, hash);
        if (message.kind === 'file') void this.hashFile(id, hash, message.file);
      }
      return;
    }
    const hash = this.open.get(id);
    if (!hash) {
      // A hash the page dropped, or one that failed: its messages may still
      // have been on the way. Said once more; the page ignores it.
      if (message.kind !== 'drop') this.failed(id, `hash ${id} is not open`);
      return;
    }
    switch (message.kind) {
      case 'update': {
        let bytes = 0;
        try {
          for (const piece of message.pieces) bytes += piece.length;
          hash.take(message.pieces);
        } catch (error) {
          this.fail(id, describe(error));
          return;
        }
        hash.settle().then(
          () => this.post({ kind: 'hashed', id, bytes }, []),
          (error: unknown) => this.fail(id, describe(error)),
        );
        break;
      }
      case 'digest':
        this.open.delete(id);
        hash.digest().then(
          (sha256) => this.post({ kind: 'digest', id, sha256 }, [sha256.buffer]),
          (error: unknown) => this.failed(id, describe(error)),
        );
        break;
      case 'drop':
        this.open.delete(id);
        hash.drop();
        break;
    }
  }

  /**
   * Reads `file` into this worker's own two buffers (BlockReader, reused for
   * the whole file) and hashes it, the next block read in the task after
   * this one is hashed (BlockReader starts each read in a task of its own:
   * read back to back, Chromium's byte stream stalled after a few GB). A
   * sender's file was read on the page and each block moved here, a fresh
   * buffer per block left for this thread's garbage collector, which runs
   * seldom in a worker that allocates little else: the sender's tab grew by
   * ~150 MB during a 1 GiB transfer whose hash was still running
   * (tools/bench/run.sh web-transfer --case large; ADR 0027). A `drop` ends
   * the reading at the next block.
   */
  private async hashFile(id: number, hash: IncrementalHash, file: Blob): Promise<void> {
    const blocks = new BlockReader(file, 0, file.size);
    try {
      await hash.settle();
      let next = blocks.next();
      for (let block = await next; block; block = await next) {
        // Into the other buffer: this block's memory is reused only by the
        // read after that one, and update() has copied it by then.
        next = blocks.next();
        next.catch(() => undefined);
        if (this.open.get(id) !== hash) {
          blocks.cancel();
          return;
        }
        hash.update(block);
      }
      if (this.open.get(id) !== hash) return;
      this.open.delete(id);
      const sha256 = await hash.digest();
      this.post({ kind: 'digest', id, sha256 }, [sha256.buffer]);
    } catch (error) {
      blocks.cancel();
      if (this.open.get(id) === hash) this.fail(id, describe(error));
    }
  }

  /** Ends hash `id` (if open) and says why. */
  private fail(id: number, why: string): void {
    const hash = this.open.get(id);
    if (hash) {
      this.open.delete(id);
      hash.drop();
    }
    this.failed(id, why);
  }

  private failed(id: number, message: string): void {
    this.post({ kind: 'failed', id, message }, []);
  }
}

function idOf(data: unknown): number | null {
  const id = (data as { id?: unknown } | null)?.id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : null;
}

function parseMessage(data: unknown): ToHashWorker | null {
  const id = idOf(data);
  if (id === null) return null;
  const { kind, pieces } = data as { kind?: unknown; pieces?: unknown };
  if (kind === 'start' || kind === 'digest' || kind === 'drop') return { kind, id };
  const { file } = data as { file?: unknown };
  if (kind === 'file' && typeof Blob !== 'undefined' && file instanceof Blob)
    return { kind, id, file };
  if (
    kind === 'update' &&
    Array.isArray(pieces) &&
    pieces.every((piece) => piece instanceof Uint8Array)
  ) {
    return { kind, id, pieces: pieces as Uint8Array[] };
  }
  return null;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
