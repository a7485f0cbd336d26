import { createHash, randomBytes } from 'node:crypto';

import { InlineSha256 } from './incremental-hash';

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
