import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { crc32 } from 'node:zlib';
import { ZipWriter, type ZipWriterOptions } from './zip-writer';

/**
 * The writer's archives, read by implementations written by others: Info-ZIP
 * unzip, Python's zipfile and 7-Zip (installed by tools/zip/ensure-zip-tools.sh,
 * which `npm test` runs). A missing tool fails these tests; it never skips them.
 */

const UTF8_ENV = { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' };
const INSTALL_HINT = 'run `bash tools/zip/ensure-zip-tools.sh` (npm test does)';

/** The path of the first of `names` on PATH; throws (fails the test) if none is. */
function findTool(...names: string[]): string {
  for (const name of names) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (found.status === 0 && found.stdout.trim()) return found.stdout.trim();
  }
  throw new Error(`${names.join(' or ')} not found on PATH: ${INSTALL_HINT}`);
}

/** Runs a tool to completion; throws with its output unless it exits 0. */
function run(command: string, args: string[], maxBuffer = 64 * 1024 * 1024): string {
  const result = spawnSync(command, args, { encoding: 'utf8', env: UTF8_ENV, maxBuffer });
  if (result.error) throw new Error(`${command} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited ${result.status ?? result.signal}:\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
}

// Python's zipfile: testzip() (reads every entry, checks its CRC), then every
// entry's name, size, CRC, UTF-8 flag and (up to 64 MiB) SHA-256, as JSON.
const PYTHON_READER = `
import hashlib, json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as archive:
    bad = archive.testzip()
    entries = []
    for info in archive.infolist():
        digest = None
        if info.file_size <= 64 * 1024 * 1024:
            digest = hashlib.sha256(archive.read(info)).hexdigest()
        entries.append({"name": info.filename, "size": info.file_size, "crc": info.CRC,
                        "utf8": bool(info.flag_bits & 0x800), "sha256": digest})
print(json.dumps({"testzip": bad, "entries": entries}))
`;

interface PythonEntry {
  name: string;
  size: number;
  crc: number;
  utf8: boolean;
  sha256: string | null;
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

function random(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Every file under `dir`, by `/`-separated relative path. */
function filesUnder(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(dir, path).split('\\').join('/'), readFileSync(path));
    }
  };
  walk(dir);
  return files;
}

/**
 * Writes an archive straight to a file. Chunks that are `zeros` (the very
 * buffer) are skipped, not written: the file gets a hole there (sparse), so a
 * 4 GiB entry costs no disk and little time, and reads back as zeros.
 */
class FileOutput {
  private readonly fd: number;
  private position = 0;

  constructor(
    readonly path: string,
    private readonly zeros?: Uint8Array,
  ) {
    this.fd = openSync(path, 'w');
  }

  readonly output = async (bytes: Uint8Array): Promise<void> => {
    if (bytes !== this.zeros) writeSync(this.fd, bytes, 0, bytes.length, this.position);
    this.position += bytes.length;
  };

  close(): void {
    ftruncateSync(this.fd, this.position); // a trailing hole still counts
    closeSync(this.fd);
  }
}

interface Entry {
  name: string;
  data: Uint8Array;
  /** Written partly, then abandoned and dropped, as ZipSaveTarget does with a failed file. */
  dropped?: boolean;
}

async function writeArchive(
  path: string,
  entries: Entry[],
  options: ZipWriterOptions = {},
): Promise<void> {
  const file = new FileOutput(path);
  const zip = new ZipWriter(file.output, options);
  for (const { name, data, dropped } of entries) {
    const entry = await zip.begin({ name, size: data.length, modified: new Date(2024, 4, 17) });
    const end = dropped ? data.length >> 1 : data.length; // a transfer that failed half-way
    for (let i = 0; i < end; i += 4096)
      await entry.write(data.subarray(i, Math.min(i + 4096, end)));
    if (dropped) {
      await entry.abandon();
      zip.drop(entry);
    } else await entry.end();
  }
  await zip.finish();
  file.close();
}

describe('ZipWriter output, read by unzip, Python zipfile and 7-Zip', () => {
  let unzip: string;
  let python: string;
  let sevenZip: string;
  let dir: string;

  beforeAll(() => {
    unzip = findTool('unzip');
    python = findTool('python3');
    sevenZip = findTool('7zz', '7z');
    dir = mkdtempSync(join(tmpdir(), 'zip-interop-'));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const unzipTest = (zip: string) =>
    expect(run(unzip, ['-t', zip])).toContain('No errors detected');
  const unzipNames = (zip: string) => run(unzip, ['-Z1', zip]).split('\n').filter(Boolean);
  const sevenZipTest = (zip: string) => {
    const out = run(sevenZip, ['t', zip]);
    expect(out).toContain('Everything is Ok');
    expect(out).not.toMatch(/warning/i);
    return out;
  };
  const sevenZipNames = (zip: string) =>
    run(sevenZip, ['l', '-slt', '-ba', zip])
      .split('\n')
      .filter((line) => line.startsWith('Path = '))
      .map((line) => line.slice('Path = '.length));
  const pythonRead = (zip: string) =>
    JSON.parse(run(python, ['-c', PYTHON_READER, zip])) as {
      testzip: string | null;
      entries: PythonEntry[];
    };

  // Folders, UTF-8 names (accents, CJK, Hangul, emoji), empty and multi-chunk
  // files, and two entries dropped after a failed transfer (one mid-archive,
  // one last): in both 32-bit and forced ZIP64 form. (A dropped FIRST entry
  // is the exception, below.)
  const entries: Entry[] = [
    { name: 'album/photos/2024/one.jpg', data: random(70_001, 2) },
    { name: 'album/notes/readme.txt', data: new TextEncoder().encode('hello from the folder\n') },
    { name: 'album/empty.bin', data: new Uint8Array(0) },
    { name: 'failed/half.bin', data: random(20_000, 9), dropped: true },
    { name: 'ünïcödé/日本語のファイル.txt', data: new TextEncoder().encode('日本語\n') },
    { name: '中文目录/文件.txt', data: new TextEncoder().encode('中文\n') },
    { name: '한국어.txt', data: new TextEncoder().encode('안녕하세요\n') },
    { name: '🎉 party/🎂 cake 👩‍👩‍👧.txt', data: new TextEncoder().encode('🎉\n') },
    { name: 'big.bin', data: random(300_000, 3) },
    { name: 'also-failed.bin', data: random(9_000, 4), dropped: true },
  ];
  const kept = entries.filter((e) => !e.dropped);

  for (const [form, options] of [
    ['32-bit', {}],
    ['forced ZIP64', { forceZip64: true }],
  ] as const) {
    it(`${form}: all three test it clean, list exactly the kept entries, and extract them byte for byte`, async () => {
      const zip = join(dir, `mixed-${form.replace(/\W+/g, '-')}.zip`);
      await writeArchive(zip, entries, options);
      const names = kept.map((e) => e.name);

      unzipTest(zip);
      expect(unzipNames(zip)).toEqual(names);
      const byUnzip = join(dir, `unzip-${form.replace(/\W+/g, '-')}`);
      run(unzip, ['-q', zip, '-d', byUnzip]);
      expect(filesUnder(byUnzip)).toEqual(new Map(kept.map((e) => [e.name, Buffer.from(e.data)])));

      const py = pythonRead(zip);
      expect(py.testzip).toBeNull();
      expect(py.entries).toEqual(
        kept.map((e) => ({
          name: e.name,
          size: e.data.length,
          crc: crc32(e.data),
          utf8: true,
          sha256: sha256(e.data),
        })),
      );

      sevenZipTest(zip);
      expect(sevenZipNames(zip)).toEqual(names);
      const by7z = join(dir, `7z-${form.replace(/\W+/g, '-')}`);
      run(sevenZip, ['x', '-y', `-o${by7z}`, zip]);
      expect(filesUnder(by7z)).toEqual(new Map(kept.map((e) => [e.name, Buffer.from(e.data)])));
    }, 60_000);
  }

  // 7-Zip starts from the first local header in the file and looks it up in
  // the central directory; when it is not there it reads every local header
  // instead (ZipIn.cpp, "LOCALS-CD-MODE") and so lists a dropped first entry
  // too. An abandoned entry's descriptor carries the complement of its CRC,
  // so 7-Zip cannot pass it off as a good (truncated) file: testing the
  // archive names it as a CRC failure. unzip and Python go by the directory.
  it('a dropped FIRST entry: unzip and Python leave it out, 7-Zip reports it as a CRC failure', async () => {
    const zip = join(dir, 'dropped-first.zip');
    const rest = kept.slice(0, 2);
    await writeArchive(zip, [
      { name: 'failed/first.bin', data: random(10_000, 8), dropped: true },
      ...rest,
    ]);
    unzipTest(zip);
    expect(unzipNames(zip)).toEqual(rest.map((e) => e.name));
    const py = pythonRead(zip);
    expect(py.testzip).toBeNull();
    expect(py.entries.map((e) => e.name)).toEqual(rest.map((e) => e.name));
    const tested = spawnSync(sevenZip, ['t', zip], { encoding: 'utf8', env: UTF8_ENV });
    expect(tested.status).not.toBe(0);
    expect(tested.stdout + tested.stderr).toMatch(
      /CRC Failed.*failed\/first\.bin|failed\/first\.bin[\s\S]*CRC/,
    );
  }, 60_000);

  // (An archive whose every entry was dropped is NOT valid: unzip and 7-Zip
  // find no central directory after the dropped bytes. ZipSaveTarget aborts
  // such a download instead of finishing it.)
  it('an archive with no entries at all is valid to all three', async () => {
    const zip = join(dir, 'empty.zip');
    await writeArchive(zip, []);
    // unzip calls an archive without entries a warning (exit 1), not an error.
    const unzipResult = spawnSync(unzip, ['-t', zip], { encoding: 'utf8', env: UTF8_ENV });
    expect({ status: unzipResult.status, out: unzipResult.stdout + unzipResult.stderr }).toEqual({
      status: 1,
      out: expect.stringContaining('zipfile is empty'),
    });
    expect(pythonRead(zip)).toEqual({ testzip: null, entries: [] });
    sevenZipTest(zip);
    expect(sevenZipNames(zip)).toEqual([]);
  });

  it('more than 65,535 entries: ZIP64 end records by count, read by all three', async () => {
    const count = 65_537;
    const zip = join(dir, 'many.zip');
    const file = new FileOutput(zip);
    const writer = new ZipWriter(file.output);
    const encoder = new TextEncoder();
    for (let i = 0; i < count; i++) {
      const entry = await writer.begin({ name: `many/${i}.txt`, size: 8 });
      await entry.write(encoder.encode(String(i).padStart(8, '0')));
      await entry.end();
    }
    await writer.finish();
    file.close();

    unzipTest(zip);
    const names = unzipNames(zip);
    expect(names).toHaveLength(count);
    expect(names[count - 1]).toBe(`many/${count - 1}.txt`);
    const py = pythonRead(zip);
    expect(py.testzip).toBeNull();
    expect(py.entries).toHaveLength(count);
    expect(py.entries[count - 1]).toMatchObject({ name: `many/${count - 1}.txt`, size: 8 });
    expect(sevenZipTest(zip)).toMatch(new RegExp(`Files: ${count}\\b`));
  }, 90_000);

  it('an entry past 4 GiB (ZIP64 by size, the next entry at an offset past 4 GiB), read by all three', async () => {
    const zeros = new Uint8Array(1024 * 1024);
    const bigSize = 4 * 1024 ** 3 + zeros.length; // 4 GiB + 1 MiB, all zeros
    const after = new TextEncoder().encode('after the big one\n');
    const zip = join(dir, 'huge.zip');
    const file = new FileOutput(zip, zeros);
    const writer = new ZipWriter(file.output);
    const big = await writer.begin({ name: 'zeros.bin', size: bigSize });
    for (let written = 0; written < bigSize; written += zeros.length) await big.write(zeros);
    await big.end();
    const next = await writer.begin({ name: 'after.txt', size: after.length });
    await next.write(after);
    await next.end();
    await writer.finish();
    file.close();
    expect(statSync(zip).size).toBeGreaterThan(bigSize);

    // Python and 7-Zip read all 4 GiB and check its CRC; unzip's CRC loop would
    // take a minute more, so it lists the entries (ZIP64 sizes) and tests and
    // extracts the one whose local header sits past 4 GiB (ZIP64 offset).
    expect(run(unzip, ['-l', zip])).toMatch(new RegExp(`^\\s*${bigSize}\\s.*zeros\\.bin$`, 'm'));
    expect(unzipNames(zip)).toEqual(['zeros.bin', 'after.txt']);
    expect(run(unzip, ['-t', zip, 'after.txt'])).toContain('No errors detected');
    expect(run(unzip, ['-p', zip, 'after.txt'])).toBe('after the big one\n');
    const py = pythonRead(zip);
    expect(py.testzip).toBeNull();
    expect(py.entries.map((e) => [e.name, e.size])).toEqual([
      ['zeros.bin', bigSize],
      ['after.txt', after.length],
    ]);
    expect(py.entries[1].sha256).toBe(sha256(after));
    sevenZipTest(zip);
    expect(sevenZipNames(zip)).toEqual(['zeros.bin', 'after.txt']);
  }, 120_000);
});
