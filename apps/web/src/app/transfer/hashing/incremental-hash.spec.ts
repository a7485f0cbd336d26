import { createHash, randomBytes } from 'node:crypto';

import { MAX_OPEN_FILES } from '../receive/download-queue';
import { InlineSha256, MAX_IDLE_HASHERS } from './incremental-hash';

const reference = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

async function hashInPieces(data: Uint8Array, pieceSizes: number[]): Promise<string> {
  const hash = new InlineSha256();
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const n = pieceSizes[i % pieceSizes.length];
    hash.update(data.subarray(at, at + n));
    at += n;
    // Some pieces land before the WebAssembly instance exists, some after.
    if (i % 3 === 2) await hash.settle();
  }
  return hex(await hash.digest());
}

describe('InlineSha256', () => {
  it('is the SHA-256 of the empty input and of "abc" (FIPS 180-4)', async () => {
    expect(hex(await new InlineSha256().digest())).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    const abc = new InlineSha256();
    abc.update(new TextEncoder().encode('abc'));
    expect(hex(await abc.digest())).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('matches node:crypto whatever the pieces, around every padding boundary', async () => {
    const data = randomBytes(300);
    for (let n = 0; n <= data.length; n += 7) {
      const prefix = data.subarray(0, n);
      expect(await hashInPieces(prefix, [1, 63, 64, 65])).toBe(reference(prefix));
    }
  });

  it('matches node:crypto over megabytes fed in data-channel-sized messages', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    expect(await hashInPieces(data, [65_532, 4_096, 131_072])).toBe(reference(data));
  });

  it('keeps pieces given before it was ready even if the caller reuses their memory', async () => {
    const hash = new InlineSha256();
    const buffer = new Uint8Array([1, 2, 3]);
    hash.update(buffer);
    buffer.fill(9); // the caller's buffer is reused at once
    hash.update(buffer);
    expect(hex(await hash.digest())).toBe(reference(new Uint8Array([1, 2, 3, 9, 9, 9])));
  });
});

describe('InlineSha256 reuse', () => {
  it('hashes thousands of files one after another, each right, reusing instances', async () => {
    // One WebAssembly instance per file ran a page out of memory after ~125.
    const files = Array.from({ length: 2000 }, (_, i) => randomBytes(1 + (i % 300)));
    for (const data of files) {
      const hash = new InlineSha256();
      hash.update(data);
      expect(hex(await hash.digest())).toBe(reference(data));
    }
  });

  it('makes no new WebAssembly instance for bursts of as many files as a receiver keeps open', async () => {
    const instantiate = jest.spyOn(WebAssembly, 'instantiate');
    try {
      // Every open file holds a hasher until its digest.
      const burst = MAX_OPEN_FILES;
      expect(burst).toBeLessThanOrEqual(MAX_IDLE_HASHERS);
      const round = async () => {
        const hashes = Array.from({ length: burst }, () => new InlineSha256());
        for (const hash of hashes) hash.update(new Uint8Array(10));
        await Promise.all(hashes.map((h) => h.digest()));
      };
      await round();
      const afterFirst = instantiate.mock.calls.length;
      for (let i = 0; i < 50; i++) await round();
      expect(instantiate.mock.calls.length).toBe(afterFirst);
    } finally {
      instantiate.mockRestore();
    }
  });

  it('gives the same digest twice and refuses more input after it', async () => {
    const hash = new InlineSha256();
    hash.update(new TextEncoder().encode('abc'));
    const first = hex(await hash.digest());
    // Another file takes the released instance in between.
    const other = new InlineSha256();
    other.update(new Uint8Array([1, 2, 3]));
    expect(hex(await hash.digest())).toBe(first);
    expect(() => hash.update(new Uint8Array(1))).toThrow('already finished');
    expect(hex(await other.digest())).toBe(reference(new Uint8Array([1, 2, 3])));
  });

  it('keeps files hashed at the same time apart', async () => {
    const a = randomBytes(1000);
    const b = randomBytes(2000);
    const [ha, hb] = [new InlineSha256(), new InlineSha256()];
    for (let i = 0; i < 10; i++) {
      ha.update(a.subarray(i * 100, (i + 1) * 100));
      hb.update(b.subarray(i * 200, (i + 1) * 200));
    }
    expect([hex(await ha.digest()), hex(await hb.digest())]).toEqual([reference(a), reference(b)]);
  });
});
