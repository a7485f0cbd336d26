import { crc32 } from 'node:zlib';
import { readZip } from '@ephemeral/testing/zip-reader';
import { dosDateTime, type ZipEntry, ZipWriter } from './zip-writer';

/** Collects a writer's output; can hold writes back to test backpressure. */
class Collector {
  readonly parts: Uint8Array[] = [];
  writes = 0;
  gate: Promise<void> | null = null;
  readonly output = async (bytes: Uint8Array) => {
    this.writes++;
    if (this.gate) await this.gate;
    this.parts.push(bytes.slice());
  };
  bytes(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}

function random(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function addFile(
  zip: ZipWriter,
  name: string,
  data: Uint8Array,
  chunk = 1000,
  size = data.length,
): Promise<void> {
  const entry = await zip.begin({ name, size, modified: new Date(2024, 4, 17, 13, 45, 31) });
  for (let i = 0; i < data.length; i += chunk) await entry.write(data.subarray(i, i + chunk));
  await entry.end();
}

describe('ZipWriter CRC-32 (hash-wasm)', () => {
  it("stores the standard check value, and zlib's CRC however the bytes are split", async () => {
    const out = new Collector();
    const zip = new ZipWriter(out.output);
    await addFile(zip, 'check.txt', new TextEncoder().encode('123456789'));
    await addFile(zip, 'empty', new Uint8Array(0));
    const data = random(100_003, 7);
    const steps = [1, 3, 8, 13, 4096, data.length];
    for (const step of steps) await addFile(zip, `split-${step}.bin`, data, step);
    await zip.finish();
    const crcs = readZip(out.bytes()).files.map((f) => f.crc32);
    expect(crcs).toEqual([0xcbf43926, 0, ...steps.map(() => crc32(data))]);
  });

  it("keeps one entry's CRC when a begin() that must fail comes while it is open", async () => {
    const out = new Collector();
    const zip = new ZipWriter(out.output);
    const data = random(5000, 8);
    const [first, second] = await Promise.allSettled([
      zip.begin({ name: 'a.bin', size: data.length }),
      zip.begin({ name: 'b.bin', size: 0 }),
    ]);
    expect(second).toMatchObject({ status: 'rejected', reason: expect.any(Error) });
    const entry = (first as PromiseFulfilledResult<ZipEntry>).value;
    await entry.write(data.subarray(0, 2000));
    await expect(zip.begin({ name: 'c.bin', size: 0 })).rejects.toThrow(/not ended/);
    await entry.write(data.subarray(2000));
    await entry.end();
    await zip.finish();
    expect(readZip(out.bytes()).files.map((f) => [f.name, f.crc32])).toEqual([
      ['a.bin', crc32(data)],
    ]);
  });
});

describe('dosDateTime', () => {
  it('packs local time in two-second steps and clamps to the DOS range', () => {
    expect(dosDateTime(new Date(2024, 4, 17, 13, 45, 31))).toEqual({
      date: ((2024 - 1980) << 9) | (5 << 5) | 17,
      time: (13 << 11) | (45 << 5) | 15,
    });
    expect(dosDateTime(new Date(1970, 0, 1))).toEqual({ date: (1 << 5) | 1, time: 0 });
    expect(dosDateTime(new Date(Number.NaN))).toEqual({ date: (1 << 5) | 1, time: 0 });
    expect(dosDateTime(new Date(2200, 0, 1)).date >> 9).toBe(127);
  });
});

describe('ZipWriter', () => {
  it('streams STOREd entries with data descriptors that a reader extracts byte for byte', async () => {
    const out = new Collector();
    const zip = new ZipWriter(out.output);
    const files: Array<[string, Uint8Array]> = [
      ['album/photos/one.jpg', random(70_001, 2)],
      ['album/notes/readme.txt', new TextEncoder().encode('hello from the folder\n')],
      ['album/empty.bin', new Uint8Array(0)],
      ['big.bin', random(250_000, 3)],
      ['ünïcode/日本語.txt', new TextEncoder().encode('utf-8 names')],
    ];
    for (const [name, data] of files) await addFile(zip, name, data, 4096);
    await zip.finish();
    const bytes = out.bytes();
    expect(zip.bytesWritten).toBe(bytes.length);

    const archive = readZip(bytes);
    expect(archive.zip64End).toBe(false);
    expect(archive.files.map((f) => f.name)).toEqual(files.map(([name]) => name));
    for (const [i, [, data]] of files.entries()) {
      const file = archive.files[i];
      expect(file.size).toBe(data.length);
      expect(file.crc32).toBe(crc32(data));
      expect(Buffer.from(file.data)).toEqual(Buffer.from(data));
      expect(file.method).toBe(0);
      expect(file.flags).toBe(0x0808); // data descriptor + UTF-8
      expect(file.zip64).toBe(false);
      expect(file.dosDate).toBe(dosDateTime(new Date(2024, 4, 17)).date);
      expect(file.dosTime).toBe((13 << 11) | (45 << 5) | 15);
    }
    // The local header leaves CRC and sizes to the descriptor.
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect(view.getUint32(14, true)).toBe(0);
    expect(view.getUint32(18, true)).toBe(0);
    expect(view.getUint32(22, true)).toBe(0);
  });

  it('writes an empty archive that readers accept', async () => {
    const out = new Collector();
    const zip = new ZipWriter(out.output);
    await zip.finish();
    expect(out.bytes().length).toBe(22);
    expect(readZip(out.bytes()).files).toEqual([]);
  });

  it('encodes ZIP64 headers, descriptors, extra fields and end records when forced', async () => {
    const out = new Collector();
    const zip = new ZipWriter(out.output, { forceZip64: true });
    const a = random(5000, 4);
    const b = new TextEncoder().encode('second');
    await addFile(zip, 'dir/a.bin', a);
    await addFile(zip, 'b.txt', b);
    await zip.finish();
    const bytes = out.bytes();
    const view = new DataView(bytes.buffer, bytes.byteOffset);

    // Local header: version 4.5, sizes 0xFFFFFFFF, a 20-byte ZIP64 extra field.
    expect(view.getUint16(4, true)).toBe(45);
    expect(view.getUint32(18, true)).toBe(0xffffffff);
    expect(view.getUint32(22, true)).toBe(0xffffffff);
    expect(view.getUint16(28, true)).toBe(20);
    const extra = 30 + 'dir/a.bin'.length;
    expect(view.getUint16(extra, true)).toBe(0x0001);
    expect(view.getUint16(extra + 2, true)).toBe(16);
    // The descriptor after the data has 8-byte sizes.
    const descriptor = extra + 20 + a.length;
    expect(view.getUint32(descriptor, true)).toBe(0x08074b50);
    expect(view.getUint32(descriptor + 4, true)).toBe(crc32(a));
    expect(view.getBigUint64(descriptor + 8, true)).toBe(BigInt(a.length));
    expect(view.getBigUint64(descriptor + 16, true)).toBe(BigInt(a.length));

    const archive = readZip(bytes);
    expect(archive.zip64End).toBe(true);
    expect(archive.files.map((f) => [f.name, f.size, f.zip64, f.localHeaderOffset])).toEqual([
      ['dir/a.bin', a.length, true, 0],
      ['b.txt', b.length, true, descriptor + 24],
    ]);
    expect(Buffer.from(archive.files[0].data)).toEqual(Buffer.from(a));
    expect(Buffer.from(archive.files[1].data)).toEqual(Buffer.from(b));
    // The classic end record points to the ZIP64 one.
    const end = bytes.length - 22;
    expect(view.getUint32(end, true)).toBe(0x06054b50);
    expect(view.getUint16(end + 10, true)).toBe(0xffff);
    expect(view.getUint32(end + 16, true)).toBe(0xffffffff);
    expect(view.getUint32(end - 20, true)).toBe(0x07064b50);
  });

  it('uses ZIP64 for an entry announced past 4 GiB without writing that much', async () => {
    const out = new Collector();
    const zip = new ZipWriter(out.output);
    const small = new TextEncoder().encode('ends early');
    // Announced as 5 GiB (decides the header), ends after a few bytes.
    await addFile(zip, 'huge.bin', small, 1000, 5 * 1024 ** 3);
    await addFile(zip, 'next.txt', small);
    await zip.finish();
    const archive = readZip(out.bytes());
    expect(archive.files.map((f) => [f.name, f.size, f.zip64])).toEqual([
      ['huge.bin', small.length, true],
      ['next.txt', small.length, false],
    ]);
    expect(archive.zip64End).toBe(false);
  });

  it('refuses more bytes than the entry announced, and writes after its end', async () => {
    const zip = new ZipWriter(new Collector().output);
    const entry = await zip.begin({ name: 'a', size: 10 });
    // The announced size decided the header's form (32-bit here), so the
    // entry may not outgrow it.
    await entry.write(new Uint8Array(6));
    await expect(entry.write(new Uint8Array(5))).rejects.toThrow(RangeError);
    await entry.write(new Uint8Array(4));
    await entry.end();
    await expect(entry.write(new Uint8Array(1))).rejects.toThrow(/already ended/);
  });

  it('leaves a dropped entry out of the directory while the stream stays readable', async () => {
    const out = new Collector();
    const zip = new ZipWriter(out.output);
    await addFile(zip, 'kept-1.txt', new TextEncoder().encode('one'));
    const partial = await zip.begin({ name: 'partial.bin', size: 1000 });
    await partial.write(random(300, 5));
    await partial.end();
    zip.drop(partial);
    await addFile(zip, 'kept-2.txt', new TextEncoder().encode('two'));
    await zip.finish();
    expect(readZip(out.bytes()).files.map((f) => f.name)).toEqual(['kept-1.txt', 'kept-2.txt']);
  });

  it('passes the output backpressure through: a write resolves only once the output took it', async () => {
    const out = new Collector();
    const zip = new ZipWriter(out.output);
    const entry = await zip.begin({ name: 'slow.bin', size: 10 });
    let release!: () => void;
    out.gate = new Promise((resolve) => (release = resolve));
    let resolved = false;
    const write = entry.write(new Uint8Array(10)).then(() => (resolved = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(resolved).toBe(false);
    release();
    await write;
    expect(resolved).toBe(true);
  });

  it('allows one open entry at a time and nothing after finish', async () => {
    const zip = new ZipWriter(new Collector().output);
    const first = await zip.begin({ name: 'a', size: 0 });
    await expect(zip.begin({ name: 'b', size: 0 })).rejects.toThrow(/not ended/);
    await expect(zip.finish()).rejects.toThrow(/still open/);
    await first.end();
    await zip.finish();
    await expect(zip.begin({ name: 'c', size: 0 })).rejects.toThrow(/finished/);
  });
});
