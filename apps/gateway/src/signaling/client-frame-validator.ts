import {
  ClientFrame,
  ErrorCode,
  Hello,
  isPeerId,
  PeerSignal,
  signalKindOf,
} from '@ephemeral/protocol';

import type { FrameRefusal } from './frame-refusal';

// Field bounds beyond the frame limit. An ICE candidate line is ~100-200
// characters; 1 KiB leaves room for long hostnames (mDNS) and extensions.
const MAX_CANDIDATE_CHARS = 1024;
// sdpMid is a short token ("0", "audio"); ufrag is 4-256 chars per RFC 8839.
const MAX_SDP_MID_CHARS = 64;
const MAX_UFRAG_CHARS = 256;
// An HMAC-SHA-256 is 32 bytes; 64 allows a future wider MAC.
const MAX_FINGERPRINT_MAC_BYTES = 64;
const MAX_BYE_REASON_CHARS = 256;
const MAX_CLIENT_VERSION_CHARS = 64;

/** 32 random bytes in base64url without padding: the shape of every resume token. */
export const RESUME_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface SignalLimits {
  maxSdpBytes: number;
}

/**
 * Checks a PeerSignal's fields against the schema's intent and the limits.
 * `from` is not checked: the gateway overwrites it.
 */
export function validatePeerSignal(
  seq: number,
  peerSignal: PeerSignal,
  senderId: string,
  limits: SignalLimits,
): FrameRefusal | undefined {
  const signalKind = signalKindOf(peerSignal.signal);
  const refuse = (code: ErrorCode, message: string): FrameRefusal => ({
    code,
    message,
    seq,
    signalKind,
    peerId: isPeerId(peerSignal.to) ? peerSignal.to : undefined,
  });
  if (!isPeerId(peerSignal.to)) {
    return refuse(
      ErrorCode.ERROR_CODE_INVALID_PEER_ID,
      '`to` is not a peer ID (lowercase UUID v4)',
    );
  }
  if (peerSignal.to === senderId) {
    return refuse(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'a peer cannot signal itself');
  }
  const payload = peerSignal.signal?.payload;
  switch (payload?.$case) {
    case 'offer':
    case 'answer': {
      const sdpBytes = Buffer.byteLength(payload.value.sdp, 'utf8');
      if (sdpBytes === 0)
        return refuse(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `${payload.$case} has no SDP`);
      if (sdpBytes > limits.maxSdpBytes) {
        return refuse(
          ErrorCode.ERROR_CODE_SDP_TOO_LARGE,
          `${payload.$case} SDP of ${sdpBytes} bytes exceeds the limit of ${limits.maxSdpBytes}`,
        );
      }
      if (payload.value.fingerprintMac.length > MAX_FINGERPRINT_MAC_BYTES) {
        return refuse(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'fingerprint_mac is too long');
      }
      return undefined;
    }
    case 'candidate': {
      const { candidate, sdpMid, usernameFragment } = payload.value;
      if (candidate.length > MAX_CANDIDATE_CHARS) {
        return refuse(
          ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
          `candidate is longer than ${MAX_CANDIDATE_CHARS} characters`,
        );
      }
      if (sdpMid.length > MAX_SDP_MID_CHARS || usernameFragment.length > MAX_UFRAG_CHARS) {
        return refuse(
          ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
          'candidate sdp_mid or username_fragment is too long',
        );
      }
      return undefined;
    }
    case 'bye':
      if (payload.value.reason.length > MAX_BYE_REASON_CHARS) {
        return refuse(
          ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
          `bye reason is longer than ${MAX_BYE_REASON_CHARS} characters`,
        );
      }
      return undefined;
    default:
      return refuse(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'signal has no payload');
  }
}

/** What a Hello asks for, once its fields are checked. */
export type HelloRequest =
  | { kind: 'new'; clientVersion: string }
  | { kind: 'resume'; peerId: string; token: string; clientVersion: string }
  /** The resume fields were unusable: answer `refusal`, then assign a new ID. */
  | { kind: 'new-after-refusal'; refusal: FrameRefusal; clientVersion: string };

export function interpretHello(seq: number, hello: Hello): HelloRequest {
  const clientVersion = hello.clientVersion.slice(0, MAX_CLIENT_VERSION_CHARS);
  const { resumePeerId, resumeToken } = hello;
  if (resumePeerId === '' && resumeToken === '') return { kind: 'new', clientVersion };
  if (resumePeerId !== '' && !isPeerId(resumePeerId)) {
    return {
      kind: 'new-after-refusal',
      clientVersion,
      refusal: {
        code: ErrorCode.ERROR_CODE_INVALID_PEER_ID,
        message: 'resume_peer_id is not a peer ID (lowercase UUID v4); a new ID is assigned',
        seq,
      },
    };
  }
  if (resumePeerId === '' || !RESUME_TOKEN_PATTERN.test(resumeToken)) {
    return {
      kind: 'new-after-refusal',
      clientVersion,
      refusal: {
        code: ErrorCode.ERROR_CODE_RESUME_REJECTED,
        message:
          resumePeerId === ''
            ? 'resume_token without resume_peer_id; a new ID is assigned'
            : 'resume_token is missing or malformed; a new ID is assigned',
        seq,
        peerId: resumePeerId || undefined,
      },
    };
  }
  return { kind: 'resume', peerId: resumePeerId, token: resumeToken, clientVersion };
}

/** The case name of a frame, for logs. */
export function frameKindName(frame: ClientFrame): string {
  return frame.kind?.$case ?? 'none';
}
