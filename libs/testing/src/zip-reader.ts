import { crc32 } from 'node:zlib';

/** One file of a zip archive as its central directory describes it. */
export interface ZipFileRecord {
  name: string;
  /** General-purpose flags (bit 3: data descriptor, bit 11: UTF-8 name). */
  flags: number;
  /** 0 = STORE; the only method this reader extracts. */
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  /** Whether the central record carries a ZIP64 extra field. */
  zip64: boolean;
  dosDate: number;
  dosTime: number;
  /** The stored bytes (a view into the archive). */
  data: Uint8Array;
}

export interface ZipArchive {
  files: ZipFileRecord[];
  /** The archive ended with ZIP64 end records. */
  zip64End: boolean;
}

const MAX_32 = 0xffffffff;

/**
 * Reads a zip archive the way extractors do (end record → central directory
 * → local headers) and checks it on the way: every local header and data
 * descriptor agrees with its central record, and every STOREd file's CRC-32
 * matches its bytes. Throws on the first inconsistency. Enough for the
 * archives the web app streams (STORE, data descriptors, ZIP64); not a
 * general-purpose unzip.
 */
export function readZip(archive: Uint8Array): ZipArchive {
  const view = new DataView(archive.buffer, archive.byteOffset, archive.byteLength);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const u64 = (at: number) => {
    const value = view.getBigUint64(at, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`64-bit value too large at ${at}`);
    return Number(value);
  };
  const expectSignature = (at: number, signature: number, what: string) => {
    if (at < 0 || at + 4 > archive.length || u32(at) !== signature)
      throw new Error(`no ${what} at offset ${at}`);
  };

  // End of central directory: the last 22+ bytes (no comment is expected,
  // but scan back over one anyway).
  let end = -1;
  for (let at = archive.length - 22; at >= Math.max(0, archive.length - 22 - 0xffff); at--) {
    if (u32(at) === 0x06054b50) {
      end = at;
      break;
    }
  }
  if (end < 0) throw new Error('no end of central directory record');
  let count = u16(end + 10);
  let directorySize = u32(end + 12);
  let directoryOffset = u32(end + 16);
  const zip64End = count === 0xffff || directorySize === MAX_32 || directoryOffset === MAX_32;
  if (zip64End) {
    const locator = end - 20;
    expectSignature(locator, 0x07064b50, 'ZIP64 end locator');
    const record = u64(locator + 8);
    expectSignature(record, 0x06064b50, 'ZIP64 end record');
    count = u64(record + 32);
    directorySize = u64(record + 40);
    directoryOffset = u64(record + 48);
  }
  const decoder = new TextDecoder('utf-8', { fatal: true });

  const files: ZipFileRecord[] = [];
  let at = directoryOffset;
  for (let i = 0; i < count; i++) {
    expectSignature(at, 0x02014b50, 'central directory header');
    const flags = u16(at + 8);
    const method = u16(at + 10);
    const dosTime = u16(at + 12);
    const dosDate = u16(at + 14);
    const crc = u32(at + 16);
    let compressedSize = u32(at + 20);
    let size = u32(at + 24);
    const nameLength = u16(at + 28);
    const extraLength = u16(at + 30);
    const commentLength = u16(at + 32);
    let localHeaderOffset = u32(at + 42);
    const name = decoder.decode(archive.subarray(at + 46, at + 46 + nameLength));
    let zip64 = false;
    // Extra fields: a ZIP64 one (id 1) holds, in order, the values whose
    // 32-bit field is 0xFFFFFFFF.
    for (let x = at + 46 + nameLength; x < at + 46 + nameLength + extraLength;) {
      const id = u16(x);
      const length = u16(x + 2);
      if (id === 0x0001) {
        zip64 = true;
        let y = x + 4;
        if (size === MAX_32) {
          size = u64(y);
          y += 8;
        }
        if (compressedSize === MAX_32) {
          compressedSize = u64(y);
          y += 8;
        }
        if (localHeaderOffset === MAX_32) {
          localHeaderOffset = u64(y);
          y += 8;
        }
        if (y > x + 4 + length) throw new Error(`${name}: ZIP64 extra field too short`);
      }
      x += 4 + length;
    }
    if (method !== 0) throw new Error(`${name}: method ${method} is not STORE`);
    if (compressedSize !== size) throw new Error(`${name}: stored sizes differ`);

    // The local header must agree; with flag bit 3 the CRC and sizes follow
    // the data in a descriptor (8-byte sizes when the header has ZIP64).
    expectSignature(localHeaderOffset, 0x04034b50, `local header of ${name}`);
    const localFlags = u16(localHeaderOffset + 6);
    const localNameLength = u16(localHeaderOffset + 26);
    const localExtraLength = u16(localHeaderOffset + 28);
    const localName = decoder.decode(
      archive.subarray(localHeaderOffset + 30, localHeaderOffset + 30 + localNameLength),
    );
    if (localName !== name) throw new Error(`local name ${localName} differs from ${name}`);
    if (localFlags !== flags) throw new Error(`${name}: local flags differ`);
    let localZip64 = false;
    const localExtra = localHeaderOffset + 30 + localNameLength;
    for (let x = localExtra; x < localExtra + localExtraLength; x += 4 + u16(x + 2)) {
      if (u16(x) === 0x0001) localZip64 = true;
    }
    const dataStart = localExtra + localExtraLength;
    const data = archive.subarray(dataStart, dataStart + size);
    if (data.length !== size) throw new Error(`${name}: data runs past the archive`);
    if (crc32(data) !== crc) throw new Error(`${name}: CRC-32 mismatch`);
    if (flags & 0x8) {
      const descriptor = dataStart + size;
      expectSignature(descriptor, 0x08074b50, `data descriptor of ${name}`);
      const dCrc = u32(descriptor + 4);
      const dCompressed = localZip64 ? u64(descriptor + 8) : u32(descriptor + 8);
      const dSize = localZip64 ? u64(descriptor + 16) : u32(descriptor + 12);
      if (dCrc !== crc || dCompressed !== size || dSize !== size)
        throw new Error(`${name}: data descriptor differs from the central directory`);
    } else if (u32(localHeaderOffset + 14) !== crc) {
      throw new Error(`${name}: local CRC-32 differs`);
    }
    files.push({
      name,
      flags,
      method,
      crc32: crc,
      compressedSize,
      size,
      localHeaderOffset,
      zip64,
      dosDate,
      dosTime,
      data,
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  if (at !== directoryOffset + directorySize)
    throw new Error(`central directory size ${directorySize} does not match its records`);
  return { files, zip64End };
}
