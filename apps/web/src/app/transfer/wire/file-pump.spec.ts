import { eventually } from '@ephemeral/eventually';
import { decodeChunk } from './chunk-frame';
import { FileSource } from '../files/file-source';
import { FilePump, PumpCancelledError } from './file-pump';

function source(bytes: Uint8Array): FileSource & { reads: number } {
  const s = {
    size: bytes.length,
    reads: 0,
    slice(start: number, end: number) {
      s.reads++;
      return { arrayBuffer: async () => bytes.slice(start, end).buffer };
    },
  };
  return s;
}

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 2654435761) >>> 24;
  return out;
}

describe('FilePump', () => {
  it('cuts a file into header-framed messages no larger than the limit', async () => {
    const file = randomBytes(10_000);
    const messages: Uint8Array[] = [];
    const pump = new FilePump({
      requestId: 7,
      source: source(file),
      offset: 0,
      messageBytes: 1004,
      readBlockBytes: 4096,
      writer: { write: async (m) => void messages.push(m.slice()) },
    });
    const result = await pump.run();
    expect(messages.every((m) => m.length <= 1004)).toBe(true);
    expect(messages).toHaveLength(10);
    const joined = Buffer.concat(messages.map((m) => decodeChunk(m)!.payload));
    expect(Buffer.compare(joined, Buffer.from(file))).toBe(0);
    expect(messages.every((m) => decodeChunk(m)!.requestId === 7)).toBe(true);
    expect(result).toBe(file.length);
  });

  it('reads 4 MiB blocks by default', async () => {
    const file = randomBytes(9 * 1024 * 1024 + 5);
    const src = source(file);
    let bytes = 0;
    const pump = new FilePump({
      requestId: 3,
      source: src,
      offset: 0,
      messageBytes: 64 * 1024,
      windowBytes: Number.MAX_SAFE_INTEGER,
      writer: { write: async (m) => void (bytes += m.length - 4) },
    });
    const result = await pump.run();
    expect(bytes).toBe(file.length);
    // Whole 64 KiB messages per block: 64 per ~4 MiB block, so 3 reads.
    expect(src.reads).toBe(3);
    expect(result).toBe(file.length);
  });

  it('resumes at an offset: sends only the rest, reading nothing before it', async () => {
    const file = randomBytes(5000);
    const messages: Uint8Array[] = [];
    const src = source(file);
    const pump = new FilePump({
      requestId: 1,
      source: src,
      offset: 3000,
      messageBytes: 1004,
      writer: { write: async (m) => void messages.push(m.slice()) },
    });
    const result = await pump.run();
    const joined = Buffer.concat(messages.map((m) => decodeChunk(m)!.payload));
    expect(Buffer.compare(joined, Buffer.from(file.subarray(3000)))).toBe(0);
    expect(result).toBe(file.length);
    expect(src.reads).toBe(1);
  });

  it('waits for acknowledgements once a window of bytes is unacknowledged', async () => {
    const file = randomBytes(10_000);
    let sent = 0;
    const pump = new FilePump({
      requestId: 1,
      source: source(file),
      offset: 0,
      messageBytes: 1004,
      windowBytes: 3000,
      writer: { write: async (m) => void (sent += m.length - 4) },
    });
    const running = pump.run();
    // The window fills, and the pump then waits.
    await eventually(() => sent >= 3000, { intervalMs: 1, description: '3000 bytes sent' });
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toBe(3000);
    pump.ack(3000);
    await eventually(() => sent >= 6000, { intervalMs: 1, description: '6000 bytes sent' });
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toBe(6000);
    pump.ack(10_000);
    await running;
    expect(sent).toBe(10_000);
  });

  it('stops when cancelled', async () => {
    const pump = new FilePump({
      requestId: 1,
      source: source(randomBytes(10_000)),
      offset: 0,
      messageBytes: 1004,
      windowBytes: 2000,
      writer: { write: async () => undefined },
    });
    const running = pump.run();
    await new Promise((r) => setImmediate(r));
    pump.cancel();
    await expect(running).rejects.toBeInstanceOf(PumpCancelledError);
  });

  it('fails when the file shrank on disk', async () => {
    const file = randomBytes(100);
    const liar: FileSource = {
      size: 200,
      slice: (a, b) => ({ arrayBuffer: async () => file.slice(a, b).buffer }),
    };
    const pump = new FilePump({
      requestId: 1,
      source: liar,
      offset: 0,
      messageBytes: 1004,
      writer: { write: async () => undefined },
    });
    await expect(pump.run()).rejects.toThrow('expected');
  });
});
