import {
  chunkMessageBytes,
  decodeChunk,
  encodeChunk,
  FALLBACK_MESSAGE_BYTES,
  isPacked,
  MAX_CHUNK_MESSAGE_BYTES,
  unpackChunks,
} from './chunk-frame';

/** A packed message from raw entries: each a length and the bytes behind it. */
function pack(...entries: { length: number; bytes: Uint8Array }[]): Uint8Array {
  const size = 4 + entries.reduce((n, e) => n + 4 + e.bytes.length, 0);
  const message = new Uint8Array(size);
  const view = new DataView(message.buffer);
  let at = 4;
  for (const { length, bytes } of entries) {
    view.setUint32(at, length, false);
    message.set(bytes, at + 4);
    at += 4 + bytes.length;
  }
  return message;
}

const entry = (requestId: number, payload: number[]) => {
  const bytes = encodeChunk(requestId, Uint8Array.from(payload));
  return { length: bytes.length, bytes };
};

describe('chunk framing', () => {
  it('sizes messages from the negotiated SCTP limit, capped', () => {
    expect(chunkMessageBytes(262144)).toBe(MAX_CHUNK_MESSAGE_BYTES);
    expect(chunkMessageBytes(16384)).toBe(16384);
    expect(chunkMessageBytes(0)).toBe(MAX_CHUNK_MESSAGE_BYTES);
    expect(chunkMessageBytes(null)).toBe(FALLBACK_MESSAGE_BYTES);
    expect(chunkMessageBytes(undefined)).toBe(FALLBACK_MESSAGE_BYTES);
  });

  it('round-trips request ID and payload', () => {
    const payload = new Uint8Array([1, 2, 3, 250]);
    const decoded = decodeChunk(encodeChunk(0xfffffffe, payload).buffer);
    expect(decoded?.requestId).toBe(0xfffffffe);
    expect([...decoded!.payload]).toEqual([1, 2, 3, 250]);
  });

  it('rejects messages shorter than the header', () => {
    expect(decodeChunk(new Uint8Array(3))).toBeNull();
  });

  it('unpacks a packed message into its chunks, in order', () => {
    const message = pack(entry(7, [1, 2]), entry(8, []), entry(7, [3]));
    expect(isPacked(message)).toBe(true);
    expect(isPacked(encodeChunk(7, Uint8Array.of(1)))).toBe(false);
    const chunks = unpackChunks(message)!;
    expect(chunks.map((c) => [c.requestId, [...c.payload]])).toEqual([
      [7, [1, 2]],
      [8, []],
      [7, [3]],
    ]);
  });

  it.each([
    ['no entry at all', pack()],
    ['a length cut short', pack(entry(7, [1]), entry(8, [2])).subarray(0, 4 + 4 + 5 + 2)],
    ['an entry shorter than a request ID', pack({ length: 3, bytes: Uint8Array.of(0, 0, 1) })],
    ['a length past the end', pack({ length: 99, bytes: encodeChunk(7, Uint8Array.of(1)) })],
    ['a pack inside a pack', pack(entry(0, [1, 2]))],
  ])('refuses a malformed pack: %s', (_, message) => {
    expect(isPacked(message)).toBe(true);
    expect(unpackChunks(message)).toBeNull();
  });
});
