// A zip of small files is three writes per file (a local header of ~60
// bytes, the file's few KiB, a 16-byte data descriptor), and each write to
// the download service worker is a message there and an acknowledgement
// back, then a chunk the browser's download writer takes on its own: ten
// thousand small files were ~30 000 of each (ADR 0031). Gathered into writes
// of up to this size they are ~25 small files per message. Small enough that
// the browser's download shows progress as it goes (and the memory is
// nothing next to the service worker's 8 MiB window); big file chunks (the
// receiver's 3–4 MiB writes) pass straight through.
export const COALESCED_WRITE_BYTES = 256 * 1024;

/**
 * Gathers small writes to `output` into fewer, bigger ones. Writes are
 * taken one at a time (each awaited before the next, as ZipWriter does):
 * a write that fits is copied and resolves at once; one that does not
 * first sends what is gathered (carrying `output`'s backpressure); one of
 * `capacity` bytes or more is passed on as it is. `flush()` sends what is
 * gathered; the owner calls it when nothing more is coming for now (the
 * archive's last open entry ended) and before closing the output.
 */
export class CoalescingOutput {
  private readonly buffer: Uint8Array<ArrayBuffer>;
  private length = 0;

  constructor(
    private readonly output: (bytes: Uint8Array) => Promise<void>,
    capacity = COALESCED_WRITE_BYTES,
  ) {
    this.buffer = new Uint8Array(capacity);
  }

  /** Bytes taken and not yet sent. */
  get gathered(): number {
    return this.length;
  }

  async write(data: Uint8Array): Promise<void> {
    if (data.length === 0) return;
    if (this.length + data.length > this.buffer.length) await this.flush();
    if (data.length >= this.buffer.length) {
      await this.output(data);
      return;
    }
    this.buffer.set(data, this.length);
    this.length += data.length;
  }

  async flush(): Promise<void> {
    if (this.length === 0) return;
    try {
      // The buffer is not touched again until this resolves: writes are one at a time.
      await this.output(this.buffer.subarray(0, this.length));
    } finally {
      this.length = 0;
    }
  }
}
