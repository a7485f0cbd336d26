import { nextTaskTurn } from '../scheduling/next-task';

import { FileReadError, FileSource, READ_BLOCK_BYTES, readFileBlock } from './file-source';

// Where the browser streams a Blob into caller-owned memory (a "BYOB"
// reader), blocks are this big: Chromium hands out at most 2 MiB per read
// (measured: 2097152-byte reads from an 8 MiB slice), so a bigger buffer
// only means more reads per block.
export const STREAM_BLOCK_BYTES = 2 * 1024 * 1024;

/** What this reader needs of a Blob to stream it (File and Blob have it). */
interface StreamableSource {
  stream?(): ReadableStream<Uint8Array>;
  slice(start: number, end: number): { stream(): ReadableStream<Uint8Array> };
}

/**
 * Reads bytes [start, end) of a shared file block after block, at most two
 * blocks in memory: the one being sent and the one being read ahead.
 *
 * Where the browser can stream the file into memory the caller owns, both
 * blocks live in two buffers reused for the whole file. A fresh buffer per
 * block (`slice().arrayBuffer()`) is garbage that V8 collects when it sees
 * fit: with five receivers of one 64 MiB file the sender's tab grew by
 * ~80–100 MB (tools/bench/run.sh web-transfer --case fanout). Elsewhere
 * (a range of one block or less, an engine without byte streams, the unit
 * specs' fakes) each block is read with `slice().arrayBuffer()`, as before.
 */
export class BlockReader {
  private readonly reader: ReadableStreamBYOBReader | null;
  /** The two buffers, by slot; a read detaches its buffer and hands back a new one on the same memory. */
  private readonly buffers: ArrayBuffer[] = [];
  private readonly blockBytes: number;
  private slot = 0;
  private pos: number;

  /**
   * `blockBytes`: the wanted block size, made a whole multiple of `align`
   * (the pump's message payload, so no short message is sent at every block
   * boundary) and, when streaming, at most about STREAM_BLOCK_BYTES.
   */
  constructor(
    private readonly source: FileSource,
    start: number,
    private readonly end: number,
    blockBytes = READ_BLOCK_BYTES,
    align = 1,
  ) {
    this.pos = start;
    this.reader = byobReader(source as unknown as StreamableSource, start, end);
    const wanted = this.reader ? Math.min(blockBytes, STREAM_BLOCK_BYTES) : blockBytes;
    this.blockBytes = Math.max(1, Math.floor(wanted / align)) * align;
    if (this.reader) {
      const size = Math.min(this.blockBytes, end - start);
      this.buffers = [new ArrayBuffer(size), new ArrayBuffer(size)];
    }
  }

  /** Bytes per block (the last may be shorter). */
  get block(): number {
    return this.blockBytes;
  }

  /**
   * The next block (null after the last). Its memory is reused by the read
   * after the next one, so the caller is done with a block (RTCDataChannel.send
   * copies) before it asks for the block after the one it read ahead. One
   * call at a time: the next waits until this one resolved.
   */
  async next(): Promise<Uint8Array | null> {
    if (this.pos >= this.end) return null;
    const start = this.pos;
    const want = Math.min(this.blockBytes, this.end - start);
    this.pos += want;
    if (!this.reader) return readFileBlock(this.source, start, start + want);
    const slot = this.slot;
    this.slot = 1 - slot;
    let buffer = this.buffers[slot];
    let filled = 0;
    try {
      while (filled < want) {
        // Each read starts in a task of its own. On Chromium 156 a BYOB blob
        // stream read back to back (the next read from the last one's promise
        // continuation, as a worker hashing a file does) stops delivering for
        // good after 2.6–6.5 GB: every BYOB variant tried on a 10 GiB file
        // stalled there, and the same reads each after a MessageChannel task
        // read all of it, at 0.74 GB/s (ADR 0027, 2026-12-03). A send paced by
        // the network never met it; a hash read at full speed did.
        await nextTaskTurn();
        const { value, done } = await this.reader.read(
          new Uint8Array(buffer, filled, want - filled),
        );
        if (value) buffer = value.buffer as ArrayBuffer;
        if (done || !value) break;
        filled += value.byteLength;
      }
    } catch (error) {
      throw new FileReadError(`could not read bytes ${start}-${start + want}: ${String(error)}`);
    } finally {
      this.buffers[slot] = buffer;
    }
    if (filled !== want) {
      // The file changed on disk after it was shared.
      throw new FileReadError(`read ${filled} bytes at ${start}, expected ${want}`);
    }
    return new Uint8Array(buffer, 0, want);
  }

  /** Stops reading (the transfer was cancelled or failed). */
  cancel(): void {
    this.reader?.cancel().catch(() => undefined);
  }
}

function byobReader(
  source: StreamableSource,
  start: number,
  end: number,
): ReadableStreamBYOBReader | null {
  // A range of one block or less is one read either way, and a stream
  // costs more to set up than it saves.
  if (end - start <= STREAM_BLOCK_BYTES || typeof source.stream !== 'function') return null;
  try {
    return source.slice(start, end).stream().getReader({ mode: 'byob' });
  } catch {
    // Not a byte stream here: read block by block instead.
    return null;
  }
}
