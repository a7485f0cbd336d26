import { sha256 } from '@noble/hashes/sha2.js';
import { FileOverrunError, IncomingFile } from './incoming-file';
import { MemorySink } from '../save/memory-sink';

describe('IncomingFile', () => {
  const data = Uint8Array.from({ length: 3000 }, (_, i) => i % 251);

  it('reassembles chunks in order, writes them and verifies the hash', async () => {
    const sink = new MemorySink();
    const file = new IncomingFile(1, data.length, sink);
    const written: number[] = [];
    file.onWritten = (n) => written.push(n);
    for (let i = 0; i < data.length; i += 700) file.append(data.subarray(i, i + 700));
    expect(file.bytesReceived).toBe(3000);
    expect(await file.finish(sha256(data))).toBe(true);
    expect(sink.closed).toBe(true);
    expect(Buffer.from(sink.contents())).toEqual(Buffer.from(data));
    expect(written[written.length - 1]).toBe(3000);
    // Chunks that arrived during the first write were coalesced.
    expect(sink.parts.length).toBeLessThan(5);
  });

  it('writes big files in batches of 3 to 4 MiB, in order', async () => {
    const MIB = 1024 * 1024;
    const big = Uint8Array.from({ length: 21 * MIB + 123 }, (_, i) => (i * 31) % 251);
    const sink = new MemorySink();
    const file = new IncomingFile(1, big.length, sink);
    // 64 KiB messages, with the event loop turning now and then as on a
    // data channel, so writes overlap arrivals.
    for (let i = 0; i < big.length; i += 65532) {
      file.append(big.subarray(i, i + 65532));
      if ((i / 65532) % 40 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(await file.finish(sha256(big))).toBe(true);
    expect(Buffer.compare(Buffer.from(sink.contents()), Buffer.from(big))).toBe(0);
    const sizes = sink.parts.map((p) => p.length);
    expect(sizes.slice(0, -1).every((n) => n >= 3 * MIB && n <= 4 * MIB)).toBe(true);
    expect(sizes[sizes.length - 1]).toBeLessThanOrEqual(4 * MIB);
    // 21 MiB made, hashed and copied: ~1 s alone, several on a loaded 2-core machine.
  }, 30_000);

  it('reports a hash mismatch as a failed verification and discards the file', async () => {
    const sink = new MemorySink();
    const file = new IncomingFile(1, data.length, sink);
    file.append(data);
    expect(await file.finish(sha256(new Uint8Array(3000)))).toBe(false);
    // Aborted, never closed: a save target commits (names) a file only on close.
    expect(sink.aborted).toBe(true);
    expect(sink.closed).toBe(false);
  });

  it('continues the hash across a resume at bytesReceived', async () => {
    const sink = new MemorySink();
    const file = new IncomingFile(1, data.length, sink);
    file.append(data.subarray(0, 1234));
    // The connection drops here; a new one requests from bytesReceived.
    expect(file.bytesReceived).toBe(1234);
    file.append(data.subarray(file.bytesReceived));
    expect(await file.finish(sha256(data))).toBe(true);
    expect(Buffer.from(sink.contents())).toEqual(Buffer.from(data));
  });

  it('refuses bytes past the announced size', () => {
    const file = new IncomingFile(1, 10, new MemorySink());
    expect(() => file.append(new Uint8Array(11))).toThrow(FileOverrunError);
  });

  it('surfaces a disk write failure', async () => {
    const file = new IncomingFile(1, 100, new MemorySink(50));
    file.append(new Uint8Array(100));
    await expect(file.flushed()).rejects.toThrow('limit');
  });
});
