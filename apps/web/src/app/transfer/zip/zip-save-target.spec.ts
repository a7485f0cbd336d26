import { FileEntry } from '@ephemeral/protocol';
import { ByteStreamOpener, FileSink } from '../save/file-sink';
import { MemorySink } from '../save/memory-sink';
import { chooseSaveTarget } from '../receive/choose-save-target';
import { readZip } from '@ephemeral/testing/zip-reader';
import { COALESCED_WRITE_BYTES } from './coalescing-output';
import { DEFAULT_ZIP_NAME, ZipSaveTarget, zipNameFor } from './zip-save-target';

let nextId = 1;
function entry(relativePath: string, size: number): FileEntry {
  const name = relativePath.split('/').pop() ?? relativePath;
  return {
    id: nextId++,
    name,
    relativePath,
    size,
    type: '',
    lastModifiedUnixMs: 1_700_000_000_000,
  };
}

function bytes(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * seed + 7) % 251);
}

/** Stands in for the service worker: each stream is a memory sink. */
class Streams implements ByteStreamOpener {
  readonly opened: Array<{ name: string; type: string; sink: MemorySink }> = [];
  async openStream(name: string, type: string): Promise<FileSink> {
    const sink = new MemorySink();
    this.opened.push({ name, type, sink });
    return sink;
  }
}

async function save(target: ZipSaveTarget, file: FileEntry, data: Uint8Array): Promise<void> {
  const sink = await target.open(file);
  for (let i = 0; i < data.length; i += 1000) await sink.write(data.subarray(i, i + 1000));
  await sink.close();
  await target.settle(file, true);
}

describe('ZipSaveTarget', () => {
  it('takes files opened at once (pipelined) in open order, whichever writes first', async () => {
    const files = [entry('set/a.txt', 3000), entry('set/b.txt', 20), entry('set/c.txt', 500)];
    const contents = files.map((f, i) => bytes(f.size, i + 5));
    const streams = new Streams();
    const target = new ZipSaveTarget(files, streams);
    const sinks = await Promise.all(files.map((f) => target.open(f)));
    // The later files complete first; each waits for the one opened before it.
    const later = Promise.all(
      [2, 1].map(async (i) => {
        await sinks[i].write(contents[i]);
        await sinks[i].close();
        await target.settle(files[i], true);
      }),
    );
    await sinks[0].write(contents[0]);
    await sinks[0].close();
    await target.settle(files[0], true);
    await later;
    const archive = readZip(streams.opened[0].sink.contents());
    expect(archive.files.map((f) => f.name)).toEqual(['set/a.txt', 'set/b.txt', 'set/c.txt']);
    for (const [i, file] of archive.files.entries())
      expect(Buffer.from(file.data)).toEqual(Buffer.from(contents[i]));
  });

  it('lets the file opened after a failed one begin', async () => {
    const files = [entry('f/a.bin', 100), entry('f/b.bin', 10)];
    const streams = new Streams();
    const target = new ZipSaveTarget(files, streams);
    const [first, second] = await Promise.all(files.map((f) => target.open(f)));
    const written = second.write(bytes(10, 3)).then(() => second.close());
    await first.abort();
    await target.settle(files[0], false);
    await written;
    await target.settle(files[1], true);
    const archive = readZip(streams.opened[0].sink.contents());
    expect(archive.files.map((f) => f.name)).toEqual(['f/b.bin']);
  });

  it('streams several files into one zip download that keeps their safe folder paths', async () => {
    const files = [
      entry('album/photos/one.jpg', 5000),
      entry('album/notes/readme.txt', 12),
      entry('album/empty.bin', 0),
      entry('album/../../etc/passwd', 3),
      entry('album/photos/ONE.jpg', 4),
    ];
    const contents = files.map((f, i) => bytes(f.size, i + 3));
    const streams = new Streams();
    const target = new ZipSaveTarget(files, streams);
    expect(target.archiveName).toBe('album.zip');
    for (const [i, file] of files.entries()) await save(target, file, contents[i]);

    expect(streams.opened.map((o) => [o.name, o.type])).toEqual([['album.zip', 'application/zip']]);
    const { sink } = streams.opened[0];
    expect(sink.closed).toBe(true);
    const archive = readZip(sink.contents());
    expect(archive.files.map((f) => f.name)).toEqual([
      'album/photos/one.jpg',
      'album/notes/readme.txt',
      'album/empty.bin',
      'album/etc/passwd',
      'album/photos/ONE (2).jpg', // would overwrite one.jpg on Windows and macOS
    ]);
    for (const [i, file] of archive.files.entries())
      expect(Buffer.from(file.data)).toEqual(Buffer.from(contents[i]));
  });

  it('leaves a file that failed part-way out of the zip, and goes on with the next', async () => {
    const [a, broken, c] = [entry('d/a.bin', 3000), entry('d/b.bin', 5000), entry('d/c.bin', 10)];
    const streams = new Streams();
    const target = new ZipSaveTarget([a, broken, c], streams);
    await save(target, a, bytes(3000, 1));
    const sink = await target.open(broken);
    await sink.write(bytes(2000, 2));
    await sink.abort();
    await target.settle(broken, false);
    await save(target, c, bytes(10, 3));

    const archive = readZip(streams.opened[0].sink.contents());
    expect(archive.files.map((f) => [f.name, f.size])).toEqual([
      ['d/a.bin', 3000],
      ['d/c.bin', 10],
    ]);
    expect(streams.opened[0].sink.closed).toBe(true);
  });

  it('lets an abort wait for a write still held by backpressure', async () => {
    // Bigger than a gathered write (COALESCED_WRITE_BYTES), so it goes to the download as it is.
    const size = COALESCED_WRITE_BYTES + 1000;
    const file = entry('x/slow.bin', size);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const inner = new MemorySink();
    const target = new ZipSaveTarget([file, entry('x/other', 1)], {
      openStream: async () => ({
        write: async (data: Uint8Array) => {
          if (inner.bytes > 0) await gate;
          await inner.write(data);
        },
        close: () => inner.close(),
        abort: () => inner.abort(),
      }),
    });
    const sink = await target.open(file);
    const write = sink.write(bytes(size, 1));
    const abort = sink.abort();
    release();
    await Promise.all([write, abort]);
    // Settled (as the session does next): nothing else is open, so the descriptor goes out too.
    await target.settle(file, false);
    // Header, data, then the descriptor: in that order.
    const out = inner.contents();
    const view = new DataView(out.buffer);
    expect(view.getUint32(0, true)).toBe(0x04034b50);
    expect(view.getUint32(out.length - 16, true)).toBe(0x08074b50);
    expect(view.getUint32(out.length - 4, true)).toBe(size);
  });

  it('gathers many small files into few download writes, and sends them once nothing else is open', async () => {
    const files = Array.from({ length: 200 }, (_, i) => entry(`tree/d${i % 7}/f${i}.txt`, 900));
    const extra = entry('tree/later.txt', 5);
    const streams = new Streams();
    const target = new ZipSaveTarget([...files, extra], streams);
    // Opened ahead, as the session's pipeline does: each entry waits for the one before.
    const sinks = await Promise.all(files.map((f) => target.open(f)));
    await Promise.all(
      files.map(async (file, i) => {
        await sinks[i].write(bytes(file.size, i + 1));
        await sinks[i].close();
        await target.settle(file, true);
      }),
    );
    const { sink } = streams.opened[0];
    // 200 × (header, bytes, descriptor) would be 600 writes.
    expect(sink.parts.length).toBeLessThan(5);
    // The last open entry settled: its bytes are in the download although the archive is not complete.
    expect(sink.closed).toBe(false);
    const written = sink.contents();
    const descriptorAt = written.length - 16;
    expect(new DataView(written.buffer).getUint32(descriptorAt, true)).toBe(0x08074b50);
    expect(new DataView(written.buffer).getUint32(written.length - 4, true)).toBe(900);
    await save(target, extra, bytes(5, 9));
    const archive = readZip(sink.contents());
    expect(archive.files).toHaveLength(201);
    for (const [i, file] of archive.files.slice(0, 200).entries())
      expect(Buffer.from(file.data)).toEqual(Buffer.from(bytes(900, i + 1)));
  });

  it('completes once every file is settled, including ones it never opened', async () => {
    const [a, skipped] = [entry('a.txt', 3), entry('b.txt', 3)];
    const streams = new Streams();
    const target = new ZipSaveTarget([a, skipped], streams);
    expect(target.archiveName).toBe(DEFAULT_ZIP_NAME);
    await save(target, a, bytes(3, 1));
    expect(streams.opened[0].sink.closed).toBe(false);
    await target.settle(skipped, false);
    expect(streams.opened[0].sink.closed).toBe(true);
    expect(readZip(streams.opened[0].sink.contents()).files.map((f) => f.name)).toEqual(['a.txt']);
    await expect(target.open(skipped)).rejects.toThrow(/not part of/);
  });

  it('aborts the download when nothing was saved, and never starts one for nothing', async () => {
    const [a, b] = [entry('a', 5), entry('b', 5)];
    const streams = new Streams();
    const target = new ZipSaveTarget([a, b], streams);
    const sink = await target.open(a);
    await sink.write(bytes(2, 1));
    await sink.abort();
    await target.settle(a, false);
    await target.settle(b, false);
    expect(streams.opened[0].sink.aborted).toBe(true);

    const idle = new Streams();
    const never = [entry('c', 1), entry('d', 1)];
    const untouched = new ZipSaveTarget(never, idle);
    for (const file of never) await untouched.settle(file, false);
    expect(idle.opened).toEqual([]);
  });

  it('names the zip after the one folder everything is in', () => {
    expect(zipNameFor([entry('Holiday 2024/a.jpg', 1), entry('Holiday 2024/b/c.jpg', 1)])).toBe(
      'Holiday 2024.zip',
    );
    expect(zipNameFor([entry('one/a', 1), entry('two/b', 1)])).toBe(DEFAULT_ZIP_NAME);
    expect(zipNameFor([entry('one/a', 1), entry('b', 1)])).toBe(DEFAULT_ZIP_NAME);
    expect(zipNameFor([entry('x:y/a', 1), entry('x:y/b', 1)])).toBe('x_y.zip');
  });

  it('is chosen without File System Access for several files; one file streams as itself', async () => {
    const streams = Object.assign(new Streams(), {
      kind: 'stream' as const,
      open: async () => new MemorySink(),
    });
    expect((await chooseSaveTarget([entry('a', 1), entry('b', 1)], {}, streams)).kind).toBe('zip');
    expect((await chooseSaveTarget([entry('dir/a', 1)], {}, streams)).kind).toBe('stream');
    const pickers = { showDirectoryPicker: async () => ({}) as FileSystemDirectoryHandle };
    expect((await chooseSaveTarget([entry('a', 1), entry('b', 1)], pickers, streams)).kind).toBe(
      'directory',
    );
  });
});
