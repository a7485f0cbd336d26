import { ClientFrame, ErrorCode } from '@ephemeral/protocol';

import type { FrameRefusal } from './frame-refusal';

export type DecodedFrame = { ok: true; frame: ClientFrame } | { ok: false; refusal: FrameRefusal };

/** Protobuf tag of ClientFrame.seq (field 1, varint). */
const SEQ_TAG = 0x08;
/** A uint32 varint takes at most 5 bytes. */
const MAX_UINT32_VARINT_BYTES = 5;

/**
 * Reads ClientFrame.seq from the head of a frame without decoding the rest,
 * to answer frames that are refused before decoding (too large, rate
 * limited). Encoders write fields in number order, so seq comes first when
 * set; anything else yields 0 ("not tracked").
 */
export function peekSeq(bytes: Uint8Array): number {
  if (bytes.length < 2 || bytes[0] !== SEQ_TAG) return 0;
  let value = 0;
  for (let i = 0; i < MAX_UINT32_VARINT_BYTES && 1 + i < bytes.length; i++) {
    const byte = bytes[1 + i];
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return value > 0xffffffff ? 0 : value;
  }
  return 0;
}

/** Turns one WebSocket message into a ClientFrame, or says why it is not one. */
export function decodeClientFrame(
  bytes: Uint8Array,
  isBinary: boolean,
  maxFrameBytes: number,
): DecodedFrame {
  if (!isBinary) {
    return refuse(
      ErrorCode.ERROR_CODE_MALFORMED_FRAME,
      'text frames are not accepted; send binary protobuf',
      0,
    );
  }
  if (bytes.length > maxFrameBytes) {
    return refuse(
      ErrorCode.ERROR_CODE_FRAME_TOO_LARGE,
      `frame of ${bytes.length} bytes exceeds the limit of ${maxFrameBytes}`,
      peekSeq(bytes),
    );
  }
  if (bytes.length === 0) {
    return refuse(ErrorCode.ERROR_CODE_MALFORMED_FRAME, 'empty frame', 0);
  }
  let frame: ClientFrame;
  try {
    frame = ClientFrame.decode(bytes);
  } catch {
    return refuse(
      ErrorCode.ERROR_CODE_MALFORMED_FRAME,
      'frame is not a valid ClientFrame',
      peekSeq(bytes),
    );
  }
  if (!frame.kind) {
    return refuse(ErrorCode.ERROR_CODE_UNKNOWN_FRAME, 'frame has no known kind', frame.seq);
  }
  return { ok: true, frame };
}

function refuse(code: ErrorCode, message: string, seq: number): DecodedFrame {
  return { ok: false, refusal: { code, message, seq } };
}
