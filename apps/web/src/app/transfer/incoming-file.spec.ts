import { sha256 } from '@noble/hashes/sha2.js';
import { FileOverrunError, IncomingFile } from './incoming-file';
import { MemorySink } from './memory-sink';

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

  it('reports a hash mismatch as a failed verification', async () => {
    const file = new IncomingFile(1, data.length, new MemorySink());
    file.append(data);
    expect(await file.finish(sha256(new Uint8Array(3000)))).toBe(false);
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
