import { CHUNK_HEADER_BYTES, PACK_LENGTH_BYTES } from './chunk-frame';
import type { ChunkWriter } from './file-pump';
import { nextTask } from '../scheduling/next-task';

/**
 * Sends chunk messages, and once the receiver listed
 * TRANSFER_FEATURE_PACKED_CHUNKS (`enablePacking`) gathers small ones into
 * packed messages (chunk-frame.ts): ten thousand small files were ten
 * thousand data messages, each costing both browsers ~0.2 ms of CPU in
 * their network and WebRTC threads and an event on the receiver's page
 * (ADR 0031's profiles; ADR 0037). A pump per small file writes its one
 * chunk here and goes on; the pack goes out when the next chunk would not
 * fit, when a chunk too big to pack follows (order is kept: it goes after
 * the pack), or in the next task, so a pack never waits for more than the
 * current task's work.
 *
 * A chunk is packed when at least two of its size fit in one message
 * (`messageBytes`, the size the pumps cut chunks to): a big file's full
 * chunks pass straight through.
 */
export class ChunkPacker implements ChunkWriter {
  private packing = false;
  private pack: Uint8Array<ArrayBuffer> | null = null;
  private packLength = 0;
  /** Writes to the channel one after another: the writer waits for one drain at a time. */
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly writer: ChunkWriter,
    /** Largest data message (read when a pack starts: the SCTP limit is known by then). */
    private readonly messageBytes: () => number,
  ) {}

  /** The receiver decodes packed messages. */
  enablePacking(): void {
    this.packing = true;
  }

  /** Resolves once `message` is copied (into a pack or by the channel): the caller may reuse it. */
  write(message: Uint8Array<ArrayBuffer>): Promise<void> {
    if (!this.packing) return this.writer.write(message);
    const entry = PACK_LENGTH_BYTES + message.length;
    const capacity = this.messageBytes();
    if (2 * entry > capacity - CHUNK_HEADER_BYTES) {
      this.flushQuietly();
      return this.send(message);
    }
    // A full pack goes out first, and this chunk waits for the channel with it.
    const full = this.pack && this.packLength + entry > this.pack.length ? this.flush() : null;
    if (!this.pack) {
      // Zero-filled: its first four bytes are PACKED_CHUNKS_ID already.
      this.pack = new Uint8Array(capacity);
      this.packLength = CHUNK_HEADER_BYTES;
      nextTask(() => this.flushQuietly());
    }
    new DataView(this.pack.buffer).setUint32(this.packLength, message.length, false);
    this.pack.set(message, this.packLength + PACK_LENGTH_BYTES);
    this.packLength += entry;
    return full ?? Promise.resolve();
  }

  /** Sends the pack being gathered, if any; resolves once the channel took it. */
  private flush(): Promise<void> {
    const pack = this.pack;
    if (!pack) return this.tail;
    this.pack = null;
    return this.send(pack.subarray(0, this.packLength));
  }

  private flushQuietly(): void {
    // A failed send (the channel closed) is the pumps' to report.
    this.flush().catch(() => undefined);
  }

  private send(message: Uint8Array<ArrayBuffer>): Promise<void> {
    const sent = this.tail.then(() => this.writer.write(message));
    this.tail = sent.catch(() => undefined);
    return sent;
  }
}
