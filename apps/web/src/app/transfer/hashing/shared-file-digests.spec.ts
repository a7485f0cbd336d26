import { createHash } from 'node:crypto';

import { FileReadError, FileSource } from '../files/file-source';
import { inlineSha256 } from './incremental-hash';
import {
  digestFile,
  FileRemovedError,
  SharedFileDigests,
  SMALL_DIGEST_BYTES,
  SMALL_DIGEST_LANES,
} from './shared-file-digests';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const reference = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A file whose reads are counted, and fail while `failing` is set. */
function source(bytes: Uint8Array): FileSource & { reads: number; failing: boolean } {
  const s = {
    size: bytes.length,
    reads: 0,
    failing: false,
    slice(start: number, end: number) {
      s.reads++;
      return {
        arrayBuffer: async () => {
          if (s.failing) throw new Error('NotReadableError');
          return bytes.slice(start, end).buffer;
        },
      };
    },
  };
  return s;
}

function bytesOf(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed) & 0xff);
}

describe('digestFile', () => {
  it('is the SHA-256 of the whole file, read in blocks', async () => {
    const file = bytesOf(10_000, 1);
    const src = source(file);
    expect(hex(await digestFile(src, inlineSha256, 4096))).toBe(reference(file));
    expect(src.reads).toBe(3);
  });

  it('is the SHA-256 of nothing for an empty file', async () => {
    expect(hex(await digestFile(source(new Uint8Array(0)), inlineSha256))).toBe(
      reference(new Uint8Array(0)),
    );
  });
});

describe('SharedFileDigests', () => {
  it('hashes each file once, however many receivers ask', async () => {
    const digests = new SharedFileDigests(inlineSha256);
    const file = bytesOf(5_000, 2);
    const src = source(file);
    const answers = await Promise.all([1, 2, 3].map(() => digests.digestOf(7, src)));
    expect(answers.map(hex)).toEqual([1, 2, 3].map(() => reference(file)));
    expect(src.reads).toBe(1);
  });

  it('hashes big files one after another, in the order they were added', async () => {
    const digests = new SharedFileDigests(inlineSha256);
    const order: number[] = [];
    const big = SMALL_DIGEST_BYTES + 1;
    const a = digests.digestOf(1, source(bytesOf(big + 3_000, 3))).then(() => order.push(1));
    const b = digests.digestOf(2, source(bytesOf(big, 4))).then(() => order.push(2));
    await Promise.all([a, b]);
    expect(order).toEqual([1, 2]);
  });

  it('hashes small files several at a time, never more than SMALL_DIGEST_LANES', async () => {
    const digests = new SharedFileDigests(inlineSha256);
    let reading = 0;
    let most = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = (bytes: Uint8Array): FileSource => ({
      size: bytes.length,
      slice: (start, end) => ({
        arrayBuffer: async () => {
          most = Math.max(most, ++reading);
          await gate;
          reading--;
          return bytes.slice(start, end).buffer;
        },
      }),
    });
    const files = Array.from({ length: SMALL_DIGEST_LANES * 2 }, (_, i) => bytesOf(100, i));
    const all = Promise.all(files.map((bytes, i) => digests.digestOf(i + 1, slow(bytes))));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(most).toBe(SMALL_DIGEST_LANES);
    release();
    expect((await all).map(hex)).toEqual(files.map(reference));
  });

  it('skips a file removed while it waited, and says so to whoever asked', async () => {
    const digests = new SharedFileDigests(inlineSha256);
    const first = digests.digestOf(1, source(bytesOf(3_000, 5)));
    const removedSource = source(bytesOf(3_000, 6));
    const removed = digests.digestOf(2, removedSource);
    digests.forget(2);
    await first;
    await expect(removed).rejects.toBeInstanceOf(FileRemovedError);
    expect(removedSource.reads).toBe(0);
  });

  it('forgets a digest that failed, so the next request reads the file again', async () => {
    const digests = new SharedFileDigests(inlineSha256);
    const file = bytesOf(2_000, 7);
    const src = source(file);
    src.failing = true;
    await expect(digests.digestOf(1, src)).rejects.toBeInstanceOf(FileReadError);
    src.failing = false;
    expect(hex(await digests.digestOf(1, src))).toBe(reference(file));
  });

  it("takes a small file's digest from the bytes read for sending, and then does not read it", async () => {
    const digests = new SharedFileDigests(inlineSha256);
    const file = bytesOf(5_000, 8);
    const src = source(file);
    const digest = digests.digestOf(1, src);
    // The sender read the whole file before the background hasher got to it.
    digests.hashRead(1, file);
    expect(hex(await digest)).toBe(reference(file));
    // The hasher's turn comes and goes without a read (a later file in every lane drains them).
    const later = Array.from({ length: SMALL_DIGEST_LANES }, (_, i) =>
      digests.digestOf(10 + i, source(bytesOf(10, i))),
    );
    await Promise.all(later);
    expect(src.reads).toBe(0);
    expect(hex(await digests.digestOf(1, src))).toBe(reference(file));
  });

  it('keeps the digest the hasher read when the file is edited before it is sent', async () => {
    const digests = new SharedFileDigests(inlineSha256);
    const file = bytesOf(5_000, 9);
    const src = source(file);
    expect(hex(await digests.digestOf(1, src))).toBe(reference(file));
    // Edited on disk after its digest was known: the bytes sent differ, the
    // digest does not, so the receiver's check fails as before.
    const edited = bytesOf(5_000, 10);
    digests.hashRead(1, edited);
    expect(hex(await digests.digestOf(1, src))).toBe(reference(file));
    expect(src.reads).toBe(1);
  });

  it('ignores bytes read for a file it was not asked to hash (or that was removed)', async () => {
    const digests = new SharedFileDigests(inlineSha256);
    digests.hashRead(1, bytesOf(100, 1));
    const src = source(bytesOf(100, 2));
    expect(hex(await digests.digestOf(1, src))).toBe(reference(bytesOf(100, 2)));
    expect(src.reads).toBe(1);
  });
});
