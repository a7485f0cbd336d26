// Data-channel framing (transfer.proto, "Data messages"): a chunk is a
// 4-byte big-endian request ID followed by file bytes. The ID lets the
// receiver drop stray chunks of a request it cancelled; the offset is
// implicit because the channel is ordered and reliable. A packed message
// carries several chunks (ChunkPacker): ID 0, then each chunk behind its
// 4-byte length.
export const CHUNK_HEADER_BYTES = 4;
/** In place of a request ID: a packed message. Request IDs start at 1. */
export const PACKED_CHUNKS_ID = 0;
export const PACK_LENGTH_BYTES = 4;

// 64 KiB messages measured fastest between two headless Chromium processes
// here (about 40 MB/s); the negotiated SCTP limit (262144 in Chromium) would
// allow bigger ones, but they were not faster and cost more per-message copy.
export const MAX_CHUNK_MESSAGE_BYTES = 64 * 1024;
// Every WebRTC implementation accepts 16 KiB messages; used when the browser
// does not report the negotiated size.
export const FALLBACK_MESSAGE_BYTES = 16 * 1024;

/** Largest data message to send, given `RTCSctpTransport.maxMessageSize`. */
export function chunkMessageBytes(maxMessageSize: number | null | undefined): number {
  // 0 means "unlimited" in the spec; null/undefined means "unknown".
  if (maxMessageSize === 0) return MAX_CHUNK_MESSAGE_BYTES;
  if (maxMessageSize === null || maxMessageSize === undefined || !Number.isFinite(maxMessageSize)) {
    return FALLBACK_MESSAGE_BYTES;
  }
  return Math.max(CHUNK_HEADER_BYTES + 1, Math.min(maxMessageSize, MAX_CHUNK_MESSAGE_BYTES));
}

/**
 * Frames `payload`, into `into` when given (it must hold header + payload;
 * lets the sender reuse one buffer, since RTCDataChannel.send copies).
 */
export function encodeChunk(
  requestId: number,
  payload: Uint8Array,
  into?: Uint8Array<ArrayBuffer>,
): Uint8Array<ArrayBuffer> {
  const length = CHUNK_HEADER_BYTES + payload.length;
  const message = into ? into.subarray(0, length) : new Uint8Array(length);
  new DataView(message.buffer, message.byteOffset, message.byteLength).setUint32(
    0,
    requestId >>> 0,
    false,
  );
  message.set(payload, CHUNK_HEADER_BYTES);
  return message;
}

export interface DecodedChunk {
  requestId: number;
  payload: Uint8Array;
}

/** Splits a data message; null when it is too short to carry a header. */
export function decodeChunk(message: ArrayBuffer | Uint8Array): DecodedChunk | null {
  const bytes = message instanceof Uint8Array ? message : new Uint8Array(message);
  if (bytes.length < CHUNK_HEADER_BYTES) return null;
  return { requestId: readUint32(bytes, 0), payload: bytes.subarray(CHUNK_HEADER_BYTES) };
}

/** Whether a data message is packed (see PACKED_CHUNKS_ID). */
export function isPacked(message: Uint8Array): boolean {
  return message.length >= CHUNK_HEADER_BYTES && readUint32(message, 0) === PACKED_CHUNKS_ID;
}

/**
 * The chunks of a packed message, in order; null when it is malformed (an
 * entry shorter than a chunk header, running past the message, or itself
 * packed): then which request its bytes belonged to cannot be known.
 */
export function unpackChunks(message: Uint8Array): DecodedChunk[] | null {
  if (!isPacked(message)) return null;
  const chunks: DecodedChunk[] = [];
  let at = CHUNK_HEADER_BYTES;
  while (at < message.length) {
    if (at + PACK_LENGTH_BYTES > message.length) return null;
    const length = readUint32(message, at);
    at += PACK_LENGTH_BYTES;
    if (length < CHUNK_HEADER_BYTES || at + length > message.length) return null;
    const chunk = decodeChunk(message.subarray(at, at + length));
    if (!chunk || chunk.requestId === PACKED_CHUNKS_ID) return null;
    chunks.push(chunk);
    at += length;
  }
  return chunks.length > 0 ? chunks : null;
}

function readUint32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at, false);
}
