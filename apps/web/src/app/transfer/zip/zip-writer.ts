/**
 * A streaming ZIP writer for downloads that must become one file (several
 * files with folder paths, in a browser that can only stream one download).
 *
 * Entries are STOREd (not compressed: shared files are mostly compressed
 * already, and it keeps the writer a pass-through). Each entry is written as
 * local header, bytes, data descriptor: the CRC-32 is only known once the last
 * byte has passed, so the header sets flag bit 3 and leaves CRC and sizes to
 * the descriptor. Names are UTF-8 (flag bit 11). The central directory is
 * kept in memory (a few dozen bytes per entry) and written by `finish()`.
 *
 * ZIP64 is decided per entry up front from its announced size (the largest it
 * can become), and for the archive's end records from the actual offsets.
 *
 * The CRC-32 (ZIP's: IEEE 802.3, polynomial 0xEDB88320) comes from hash-wasm,
 * as the SHA-256 of every file does. Its hasher is created asynchronously,
 * once per writer, by the first `begin()` (already async); from then on it is
 * fed synchronously as bytes pass and reset for each entry, which is safe
 * because one entry is open at a time.
 */

import { createCRC32, type IHasher } from 'hash-wasm';

const LOCAL_HEADER = 0x04034b50;
const DATA_DESCRIPTOR = 0x08074b50;
const CENTRAL_HEADER = 0x02014b50;
const ZIP64_END = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const END = 0x06054b50;
const ZIP64_EXTRA_ID = 0x0001;

const FLAG_DATA_DESCRIPTOR = 1 << 3;
const FLAG_UTF8 = 1 << 11;
const FLAGS = FLAG_DATA_DESCRIPTOR | FLAG_UTF8;
const VERSION_DEFAULT = 20; // 2.0: folders, data descriptors
const VERSION_ZIP64 = 45; // 4.5: ZIP64
// Version made by: high byte 3 = Unix, so the external attributes carry a
// file mode (0644) that unzip and Archive Utility apply.
const MADE_BY_UNIX = 3 << 8;
const UNIX_FILE_MODE = 0o100644;

/** The largest value a 32-bit field holds; 0xFFFFFFFF itself means "see ZIP64". */
const MAX_32 = 0xfffffffe;
const MAX_16 = 0xfffe;

/** The CRC-32 a hash-wasm hasher computed, as the number ZIP stores. */
function crcValue(hasher: IHasher): number {
  const [a, b, c, d] = hasher.digest('binary'); // big-endian
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/** MS-DOS date and time (local time, 2-second steps, 1980–2107) as ZIP stores them. */
export function dosDateTime(date: Date): { date: number; time: number } {
  let year = date.getFullYear();
  if (Number.isNaN(year) || year < 1980) return { date: (1 << 5) | 1, time: 0 }; // 1980-01-01
  if (year > 2107) year = 2107;
  return {
    date: ((year - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate(),
    time: (date.getHours() << 11) | (date.getMinutes() << 5) | (date.getSeconds() >> 1),
  };
}

/** Little-endian field writer over a fixed-size buffer. */
class Fields {
  readonly bytes: Uint8Array<ArrayBuffer>;
  private readonly view: DataView;
  private at = 0;

  constructor(length: number) {
    this.bytes = new Uint8Array(length);
    this.view = new DataView(this.bytes.buffer);
  }
  u16(value: number): this {
    this.view.setUint16(this.at, value, true);
    this.at += 2;
    return this;
  }
  u32(value: number): this {
    this.view.setUint32(this.at, value >>> 0, true);
    this.at += 4;
    return this;
  }
  u64(value: number): this {
    this.view.setBigUint64(this.at, BigInt(value), true);
    this.at += 8;
    return this;
  }
  raw(data: Uint8Array): this {
    this.bytes.set(data, this.at);
    this.at += data.length;
    return this;
  }
}

export interface ZipEntryOptions {
  /** Path inside the archive, `/`-separated (already made safe by the caller). */
  name: string;
  /**
   * The most bytes this entry will hold (fewer if it ends early). Decides
   * ZIP64 before the first byte, since the local header comes first.
   */
  size: number;
  modified?: Date;
}

/** What the central directory needs to know about one entry. */
export interface CentralRecord {
  name: Uint8Array;
  zip64: boolean;
  crc: number;
  size: number;
  offset: number;
  dos: { date: number; time: number };
}

export interface ZipWriterOptions {
  /** Write every entry and the end records in ZIP64 form (tests; huge archives). */
  forceZip64?: boolean;
}

/** One entry being written; obtained from `ZipWriter.begin`. */
export class ZipEntry {
  private written = 0;
  private ended = false;
  /** Ended by `abandon`: its descriptor's CRC is deliberately wrong. */
  abandoned = false;

  /** @internal */
  constructor(
    private readonly writer: ZipWriter,
    readonly record: CentralRecord,
    private readonly limit: number,
    /** The writer's CRC-32 hasher, initialised for this entry. */
    private readonly crc: IHasher,
  ) {}

  get size(): number {
    return this.written;
  }

  /** Passes `data` through to the archive (the promise carries the output's backpressure). */
  async write(data: Uint8Array): Promise<void> {
    if (this.ended) throw new Error('zip entry already ended');
    // The announced size decided the header's form (32-bit or ZIP64).
    if (this.written + data.length > this.limit)
      throw new RangeError(`zip entry larger than its announced ${this.limit} bytes`);
    this.crc.update(data);
    this.written += data.length;
    await this.writer.emit(data);
  }

  /**
   * Writes the data descriptor (CRC and sizes of the bytes written, however
   * many that turned out to be) and lets the next entry begin.
   */
  async end(): Promise<void> {
    return this.close(false);
  }

  /**
   * Ends a failed or cancelled entry so no reader can take it for a good
   * one: its bytes are already in the stream, but its data descriptor
   * carries the complement of their CRC-32, so a tool that walks local
   * headers instead of the central directory (7-Zip does, for entries the
   * directory lacks) reports a CRC error rather than a plausible truncated
   * file. Leave it out of the central directory with `ZipWriter.drop`.
   */
  async abandon(): Promise<void> {
    return this.close(true);
  }

  private async close(abandoned: boolean): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.abandoned = abandoned;
    const crc = crcValue(this.crc);
    this.record.crc = abandoned ? ~crc >>> 0 : crc;
    this.record.size = this.written;
    const descriptor = this.record.zip64
      ? new Fields(24).u32(DATA_DESCRIPTOR).u32(this.record.crc).u64(this.written).u64(this.written)
      : new Fields(16)
          .u32(DATA_DESCRIPTOR)
          .u32(this.record.crc)
          .u32(this.written)
          .u32(this.written);
    try {
      await this.writer.emit(descriptor.bytes);
    } finally {
      this.writer.entryEnded(this);
    }
  }
}

/**
 * Writes a ZIP archive to `output` as entries are added: one entry at a time,
 * never holding more than the chunk being passed through.
 */
export class ZipWriter {
  private offset = 0;
  private readonly records: CentralRecord[] = [];
  private open: ZipEntry | null = null;
  private finished = false;
  private readonly encoder = new TextEncoder();
  private crc: Promise<IHasher> | null = null;

  constructor(
    private readonly output: (bytes: Uint8Array) => Promise<void>,
    private readonly options: ZipWriterOptions = {},
  ) {}

  /** Bytes written to the output so far. */
  get bytesWritten(): number {
    return this.offset;
  }

  /** Writes the entry's local header; the returned entry takes its bytes. */
  async begin(options: ZipEntryOptions): Promise<ZipEntry> {
    // Awaited first, so that the checks below and `this.open = entry` happen
    // with no await between them (of two concurrent begin() calls, one fails).
    this.crc ??= createCRC32();
    const crc = await this.crc;
    if (this.finished) throw new Error('zip archive already finished');
    if (this.open) throw new Error('the previous zip entry has not ended');
    const name = this.encoder.encode(options.name);
    if (name.length === 0 || name.length > 0xffff) throw new RangeError('bad zip entry name');
    const zip64 = this.options.forceZip64 === true || options.size > MAX_32;
    const record: CentralRecord = {
      name,
      zip64,
      crc: 0,
      size: 0,
      offset: this.offset,
      dos: dosDateTime(options.modified ?? new Date()),
    };
    // CRC and sizes are zero here (flag bit 3: they follow in the data
    // descriptor). A ZIP64 entry says so with 0xFFFFFFFF sizes and a ZIP64
    // extra field, which tells readers its descriptor has 8-byte sizes.
    const extraLength = zip64 ? 20 : 0;
    const header = new Fields(30 + name.length + extraLength)
      .u32(LOCAL_HEADER)
      .u16(zip64 ? VERSION_ZIP64 : VERSION_DEFAULT)
      .u16(FLAGS)
      .u16(0) // method: STORE
      .u16(record.dos.time)
      .u16(record.dos.date)
      .u32(0) // CRC-32
      .u32(zip64 ? 0xffffffff : 0)
      .u32(zip64 ? 0xffffffff : 0)
      .u16(name.length)
      .u16(extraLength)
      .raw(name);
    if (zip64) header.u16(ZIP64_EXTRA_ID).u16(16).u64(0).u64(0);
    const entry = new ZipEntry(this, record, options.size, crc.init());
    this.open = entry;
    try {
      await this.emit(header.bytes);
    } catch (error) {
      this.open = null;
      throw error;
    }
    return entry;
  }

  /**
   * Leaves an ended entry out of the central directory: its bytes stay in
   * the stream (they are already out), but readers, which go by the
   * directory, do not list or extract it. Keep at least one entry: after
   * dropped bytes, an empty directory is not an archive unzip or 7-Zip open
   * (ZipSaveTarget aborts such a download instead of finishing it).
   */
  drop(entry: ZipEntry): void {
    if (this.finished) throw new Error('zip archive already finished');
    const index = this.records.indexOf(entry.record);
    if (index >= 0) this.records.splice(index, 1);
  }

  /** Writes the central directory and end records; the archive is complete. */
  async finish(): Promise<void> {
    if (this.finished) return;
    if (this.open) throw new Error('a zip entry is still open');
    this.finished = true;
    const force = this.options.forceZip64 === true;
    const directoryStart = this.offset;
    for (const record of this.records) await this.emit(this.centralHeader(record));
    const directorySize = this.offset - directoryStart;
    const count = this.records.length;
    const zip64End = force || count > MAX_16 || directoryStart > MAX_32 || directorySize > MAX_32;
    if (zip64End) {
      const zip64EndOffset = this.offset;
      await this.emit(
        new Fields(56)
          .u32(ZIP64_END)
          .u64(44) // size of the rest of this record
          .u16(MADE_BY_UNIX | VERSION_ZIP64)
          .u16(VERSION_ZIP64)
          .u32(0) // this disk
          .u32(0) // disk with the central directory
          .u64(count)
          .u64(count)
          .u64(directorySize)
          .u64(directoryStart).bytes,
      );
      await this.emit(
        new Fields(20)
          .u32(ZIP64_LOCATOR)
          .u32(0) // disk with the ZIP64 end record
          .u64(zip64EndOffset)
          .u32(1).bytes, // total disks
      );
    }
    await this.emit(
      new Fields(22)
        .u32(END)
        .u16(0)
        .u16(0)
        .u16(zip64End ? 0xffff : count)
        .u16(zip64End ? 0xffff : count)
        .u32(zip64End ? 0xffffffff : directorySize)
        .u32(zip64End ? 0xffffffff : directoryStart)
        .u16(0).bytes, // comment length
    );
  }

  /** @internal */
  async emit(bytes: Uint8Array): Promise<void> {
    this.offset += bytes.length;
    await this.output(bytes);
  }

  /** @internal */
  entryEnded(entry: ZipEntry): void {
    if (this.open === entry) this.open = null;
    this.records.push(entry.record);
  }

  private centralHeader(record: CentralRecord): Uint8Array {
    // A ZIP64 extra field holds, in this order, only the values whose 32-bit
    // field says 0xFFFFFFFF: sizes for a ZIP64 entry, the offset when the
    // entry starts past 4 GiB.
    const sizes64 = record.zip64;
    const offset64 = record.offset > MAX_32 || this.options.forceZip64 === true;
    const extraData = (sizes64 ? 16 : 0) + (offset64 ? 8 : 0);
    const extraLength = extraData > 0 ? 4 + extraData : 0;
    const header = new Fields(46 + record.name.length + extraLength)
      .u32(CENTRAL_HEADER)
      .u16(MADE_BY_UNIX | VERSION_ZIP64)
      .u16(record.zip64 || offset64 ? VERSION_ZIP64 : VERSION_DEFAULT)
      .u16(FLAGS)
      .u16(0) // STORE
      .u16(record.dos.time)
      .u16(record.dos.date)
      .u32(record.crc)
      .u32(sizes64 ? 0xffffffff : record.size)
      .u32(sizes64 ? 0xffffffff : record.size)
      .u16(record.name.length)
      .u16(extraLength)
      .u16(0) // comment length
      .u16(0) // disk number start
      .u16(0) // internal attributes
      .u32((UNIX_FILE_MODE << 16) >>> 0)
      .u32(offset64 ? 0xffffffff : record.offset)
      .raw(record.name);
    if (extraLength > 0) {
      header.u16(ZIP64_EXTRA_ID).u16(extraData);
      if (sizes64) header.u64(record.size).u64(record.size);
      if (offset64) header.u64(record.offset);
    }
    return header.bytes;
  }
}
