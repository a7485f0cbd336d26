// Each Blob read is an asynchronous round trip to the browser's file reader,
// so the pump reads big blocks (and prefetches the next while sending) and
// cuts them into data messages, instead of one read per message. 4 MiB blocks
// cost the sender's browser and renderer processes ~2 CPU-s/GiB less than
// 1 MiB ones here, where the sender shares two cores with everything else.
export const READ_BLOCK_BYTES = 4 * 1024 * 1024;

/** A shared file as the sender reads it; a File/Blob satisfies it. */
export interface FileSource {
  readonly size: number;
  slice(start: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> };
  /** The whole file (a File has it): no slice, which costs the sender a blob per small file. */
  arrayBuffer?(): Promise<ArrayBuffer>;
}

/** Reads bytes [start, end) of a shared file; FileReadError if it cannot (or changed size). */
export async function readFileBlock(
  source: FileSource,
  start: number,
  end: number,
): Promise<Uint8Array> {
  let buffer: ArrayBuffer;
  try {
    buffer =
      start === 0 && end === source.size && source.arrayBuffer
        ? await source.arrayBuffer()
        : await source.slice(start, end).arrayBuffer();
  } catch (error) {
    throw new FileReadError(`could not read bytes ${start}-${end}: ${String(error)}`);
  }
  if (buffer.byteLength !== end - start) {
    // The file changed on disk after it was shared.
    throw new FileReadError(`read ${buffer.byteLength} bytes at ${start}, expected ${end - start}`);
  }
  return new Uint8Array(buffer);
}

export class FileReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FileReadError';
  }
}
