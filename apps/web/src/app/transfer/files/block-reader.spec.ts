import { BlockReader, STREAM_BLOCK_BYTES } from './block-reader';
import { FileReadError, FileSource } from './file-source';

function pattern(n: number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length: n }, (_, i) => (i * 131) % 251);
}

/** Reads every block, copying each before asking for the one after next (as the pump does). */
async function readAll(reader: BlockReader): Promise<Buffer> {
  const parts: Buffer[] = [];
  let next = reader.next();
  for (let block = await next; block; block = await next) {
    next = reader.next();
    parts.push(Buffer.from(block));
  }
  return Buffer.concat(parts);
}

describe('BlockReader', () => {
  it('streams a Blob through two reused buffers, whole multiples of the message payload', async () => {
    const data = pattern(5 * STREAM_BLOCK_BYTES + 12_345);
    const blob = new Blob([data]);
    const align = 65_532;
    const reader = new BlockReader(blob, 1000, data.length, 4 * 1024 * 1024, align);
    expect(reader.block % align).toBe(0);
    expect(reader.block).toBeLessThanOrEqual(STREAM_BLOCK_BYTES);
    const bytes = await readAll(reader);
    expect(bytes.equals(Buffer.from(data.subarray(1000)))).toBe(true);
  });

  it('allocates no buffer per block: the memory of two serves the whole file', async () => {
    const data = pattern(8 * STREAM_BLOCK_BYTES);
    const reader = new BlockReader(new Blob([data]), 0, data.length);
    const seen: ArrayBufferLike[] = [];
    let next = reader.next();
    let blocks = 0;
    for (let block = await next; block; block = await next) {
      next = reader.next();
      blocks++;
      // A BYOB read hands back its buffer transferred: same size, and the
      // block before the one read ahead is detached (its memory moved on).
      seen.push(block.buffer);
    }
    expect(blocks).toBe(8);
    expect(seen.slice(0, -2).every((b) => b.byteLength === 0)).toBe(true);
  });

  it('starts every stream read in a task after the last one resolved, never back to back', async () => {
    // A byte stream that answers each read at once, and notes for each pull
    // whether a task queued during the previous pull has run since.
    let previousPullsTask: { ran: boolean } | null = null;
    const fresh: boolean[] = [];
    const size = 6 * STREAM_BLOCK_BYTES;
    const source = {
      size,
      stream: () => new Blob([]).stream(),
      slice: () => ({
        stream: () =>
          new ReadableStream({
            type: 'bytes',
            pull: (controller) => {
              if (previousPullsTask) fresh.push(previousPullsTask.ran);
              const task = { ran: false };
              setImmediate(() => (task.ran = true));
              previousPullsTask = task;
              const request = controller.byobRequest;
              if (!request?.view) throw new Error('expected a BYOB read');
              request.respond(request.view.byteLength);
            },
          }),
      }),
    } as unknown as FileSource;
    const bytes = await readAll(new BlockReader(source, 0, size));
    expect(bytes.length).toBe(size);
    expect(fresh.length).toBeGreaterThanOrEqual(5);
    expect(fresh.every(Boolean)).toBe(true);
  });

  it('fails with FileReadError when the file is shorter than it was', async () => {
    const data = pattern(3000);
    const shrunk: FileSource & { stream(): ReadableStream<Uint8Array> } = {
      size: 5000,
      stream: () => new Blob([data]).stream(),
      slice: (start: number, end: number) => new Blob([data]).slice(start, end),
    };
    const reader = new BlockReader(shrunk, 0, 5000);
    await expect(reader.next()).rejects.toBeInstanceOf(FileReadError);
  });

  it('reads block by block with arrayBuffer() where the source cannot stream', async () => {
    const data = pattern(10_000);
    let reads = 0;
    const plain: FileSource = {
      size: data.length,
      slice: (start, end) => {
        reads++;
        return { arrayBuffer: async () => data.slice(start, end).buffer };
      },
    };
    const bytes = await readAll(new BlockReader(plain, 0, data.length, 4096));
    expect(bytes.equals(Buffer.from(data))).toBe(true);
    expect(reads).toBe(3);
  });
});
