import {
  chunkMessageBytes,
  decodeChunk,
  encodeChunk,
  FALLBACK_MESSAGE_BYTES,
  MAX_CHUNK_MESSAGE_BYTES,
} from './chunk-frame';

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
});
