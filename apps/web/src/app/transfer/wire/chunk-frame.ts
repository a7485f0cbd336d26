// Data-channel framing: every binary message is a 4-byte big-endian request
// ID followed by file bytes. The ID lets the receiver drop stray chunks of a
// request it cancelled; the offset is implicit because the channel is ordered
// and reliable.
export const CHUNK_HEADER_BYTES = 4;

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
  const requestId = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(
    0,
    false,
  );
  return { requestId, payload: bytes.subarray(CHUNK_HEADER_BYTES) };
}
