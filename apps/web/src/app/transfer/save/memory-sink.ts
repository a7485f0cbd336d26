import { FileSink } from './file-sink';

/**
 * Keeps a download in memory (the last-resort save path, small files only,
 * and the sink unit specs use).
 */
export class MemorySink implements FileSink {
  readonly parts: Uint8Array[] = [];
  bytes = 0;
  closed = false;
  aborted = false;

  constructor(private readonly limitBytes = Number.MAX_SAFE_INTEGER) {}

  async write(data: Uint8Array): Promise<void> {
    if (this.bytes + data.length > this.limitBytes) {
      throw new RangeError(`in-memory download limit of ${this.limitBytes} bytes exceeded`);
    }
    // Copy: the caller's buffer may be a view into a larger message.
    this.parts.push(data.slice());
    this.bytes += data.length;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  async abort(): Promise<void> {
    this.aborted = true;
    this.parts.length = 0;
  }

  /** All bytes written, concatenated. */
  contents(): Uint8Array<ArrayBuffer> {
    const all = new Uint8Array(this.bytes);
    let at = 0;
    for (const part of this.parts) {
      all.set(part, at);
      at += part.length;
    }
    return all;
  }
}
