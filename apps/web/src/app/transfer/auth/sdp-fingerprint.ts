/**
 * The one DTLS certificate fingerprint of an SDP, read strictly. Browsers
 * parse SDP loosely and differently (Firefox accepts a connection when ANY
 * listed fingerprint matches; Chromium takes one per media section; both
 * accept any case), so instead of guessing which line an engine applies,
 * an SDP is accepted only if it names exactly one fingerprint, in exactly
 * the form both engines write: `a=fingerprint:sha-256 AB:CD:…` (32 bytes,
 * uppercase hex), on a line of its own. Any other mention of "fingerprint"
 * — a second line at any level, another case, extra whitespace, another
 * algorithm, a line split by a lone CR or LF — is refused.
 */

export const FINGERPRINT_BYTES = 32;

const CANONICAL_LINE = /^a=fingerprint:sha-256 ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})$/;

/** An SDP whose fingerprint is missing, ambiguous or not in canonical form. */
export class SdpFingerprintError extends Error {
  constructor(reason: string) {
    super(`refused SDP: ${reason}`);
    this.name = 'SdpFingerprintError';
  }
}

/** The SHA-256 fingerprint the SDP's single `a=fingerprint` line names. */
export function strictDtlsFingerprint(sdp: string): Uint8Array {
  const mentions = sdp.match(/fingerprint/gi)?.length ?? 0;
  if (mentions === 0) throw new SdpFingerprintError('no DTLS fingerprint');
  if (mentions > 1) throw new SdpFingerprintError(`${mentions} fingerprint attributes`);
  // Split on any line break an engine might honour, so a line joined by a
  // lone CR or LF cannot hide inside another.
  const line = sdp.split(/\r\n|\r|\n/).find((l) => /fingerprint/i.test(l)) ?? '';
  const match = CANONICAL_LINE.exec(line);
  if (!match) throw new SdpFingerprintError('fingerprint not in canonical sha-256 form');
  return fingerprintFromHex(match[1]);
}

/** `AB:CD:…` → bytes. */
export function fingerprintFromHex(hex: string): Uint8Array {
  const parts = hex.split(':');
  if (parts.length !== FINGERPRINT_BYTES || parts.some((p) => !/^[0-9A-Fa-f]{2}$/.test(p)))
    throw new SdpFingerprintError('fingerprint is not 32 hex bytes');
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

/** Bytes → `AB:CD:…`, the form SDP carries. */
export function fingerprintToHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}
