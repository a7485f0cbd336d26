import { BlockReader } from '../files/block-reader';
import { FileSource, READ_BLOCK_BYTES } from '../files/file-source';
import { CHUNK_HEADER_BYTES, encodeChunk } from './chunk-frame';

// The receiver acknowledges bytes handed to its disk writer; the sender never
// runs further ahead than this. It bounds the receiver's memory when its disk
// is slower than the network, and is large enough (~0.2 s at 40 MB/s) that
// acknowledgements every 256 KiB never stall a healthy transfer.
export const FLOW_WINDOW_BYTES = 8 * 1024 * 1024;

/** Sends data messages; done with (or has copied) `message` when the promise resolves. */
export interface ChunkWriter {
  write(message: Uint8Array<ArrayBuffer>): Promise<void>;
}

export class PumpCancelledError extends Error {
  constructor() {
    super('transfer cancelled');
    this.name = 'PumpCancelledError';
  }
}

export interface PumpOptions {
  requestId: number;
  source: FileSource;
  /** First byte to send (a resumed download continues here). */
  offset: number;
  /** Largest data message, header included (see chunkMessageBytes). */
  messageBytes: number;
  writer: ChunkWriter;
  windowBytes?: number;
  readBlockBytes?: number;
}

/**
 * Streams one file (from an offset) into data-channel messages. The file's
 * SHA-256 comes from SharedFileDigests, computed once per shared file.
 */
export class FilePump {
  private acked: number;
  private sent: number;
  private cancelled = false;
  private wake: (() => void) | null = null;

  constructor(private readonly options: PumpOptions) {
    this.acked = options.offset;
    this.sent = options.offset;
  }

  get requestId(): number {
    return this.options.requestId;
  }

  /** Bytes of the file handed to the channel so far (absolute). */
  get bytesSent(): number {
    return this.sent;
  }

  /** The receiver has this many bytes (absolute); may open the window. */
  ack(bytes: number): void {
    if (bytes > this.acked) {
      this.acked = bytes;
      this.signal();
    }
  }

  cancel(): void {
    this.cancelled = true;
    this.signal();
  }

  /** Resolves with the bytes sent (absolute: the file's size) once the last is handed over. */
  async run(): Promise<number> {
    const { source, offset, requestId, writer } = this.options;
    const size = source.size;
    const window = this.options.windowBytes ?? FLOW_WINDOW_BYTES;
    const payloadBytes = this.options.messageBytes - CHUNK_HEADER_BYTES;
    if (payloadBytes < 1) throw new RangeError('message size too small for a chunk');
    if (offset < 0 || offset > size)
      throw new RangeError(`offset ${offset} outside file of ${size} bytes`);
    // RTCDataChannel.send copies the message, so one buffer serves them all;
    // no bigger than this file's bytes need (a pump per small file: ten
    // thousand 1–16 KiB files allocated 64 KiB each).
    const scratch = new Uint8Array(
      Math.min(this.options.messageBytes, CHUNK_HEADER_BYTES + (size - offset)),
    );
    const blocks = new BlockReader(
      source,
      offset,
      size,
      this.options.readBlockBytes ?? READ_BLOCK_BYTES,
      payloadBytes,
    );
    try {
      // The next block is read while this one is sent (at most two in memory).
      let next = blocks.next();
      for (let bytes = await next; bytes; bytes = await next) {
        next = blocks.next();
        // A read ahead that is abandoned (cancel, closed channel) must not
        // turn into an unhandled rejection.
        next.catch(() => undefined);
        for (let i = 0; i < bytes.length; i += payloadBytes) {
          while (this.sent - this.acked >= window && !this.cancelled) {
            await new Promise<void>((resolve) => (this.wake = resolve));
          }
          this.throwIfCancelled();
          const payload = bytes.subarray(i, Math.min(bytes.length, i + payloadBytes));
          await writer.write(encodeChunk(requestId, payload, scratch));
          this.sent += payload.length;
        }
      }
    } catch (error) {
      blocks.cancel();
      throw error;
    }
    return size;
  }

  private throwIfCancelled(): void {
    if (this.cancelled) throw new PumpCancelledError();
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
