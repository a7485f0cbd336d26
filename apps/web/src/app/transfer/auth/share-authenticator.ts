import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { Role } from '@ephemeral/protocol';

const encoder = new TextEncoder();
// Domain separation: the same secret yields unrelated keys for unrelated uses,
// and a MAC made for one purpose can never be replayed as another.
const KDF_SALT = encoder.encode('ephemeral-share/v1');
const KDF_INFO = encoder.encode('peer-auth');
const SDP_LABEL = 'sdp-fingerprint';
const PROOF_LABEL = 'secret-proof';

/** Thrown when an SDP carries no DTLS fingerprint to authenticate. */
export class MissingFingerprintError extends Error {
  constructor() {
    super('SDP has no a=fingerprint line');
    this.name = 'MissingFingerprintError';
  }
}

/**
 * Every DTLS fingerprint in an SDP (session or media level), normalised
 * (algorithm lowercase, hex uppercase), de-duplicated and sorted so both
 * browsers compute the MAC over the same text whatever the line order.
 */
export function dtlsFingerprints(sdp: string): string[] {
  const found = new Set<string>();
  for (const line of sdp.split(/\r?\n/)) {
    const match = /^a=fingerprint:(\S+)\s+([0-9A-Fa-f:]+)\s*$/.exec(line);
    if (match) found.add(`${match[1].toLowerCase()} ${match[2].toUpperCase()}`);
  }
  return [...found].sort();
}

/**
 * Proves knowledge of the share secret without revealing it, binding it to one
 * sender/receiver pair. The broker relays SDPs; if it swapped a DTLS
 * fingerprint to sit in the middle, the MAC made by the real browser no longer
 * matches and the other browser refuses the SDP before setRemoteDescription.
 */
export class ShareAuthenticator {
  private readonly key: Uint8Array;

  constructor(
    secret: Uint8Array,
    readonly senderPeerId: string,
    readonly receiverPeerId: string,
  ) {
    this.key = hkdf(sha256, secret, KDF_SALT, KDF_INFO, 32);
  }

  /** MAC over the role that made `sdp`, both peer IDs and its fingerprints. */
  sdpMac(role: Role, sdp: string): Uint8Array {
    const fingerprints = dtlsFingerprints(sdp);
    if (fingerprints.length === 0) throw new MissingFingerprintError();
    return this.mac(SDP_LABEL, role, fingerprints.join(','));
  }

  verifySdp(role: Role, sdp: string, mac: Uint8Array): boolean {
    if (dtlsFingerprints(sdp).length === 0) return false;
    return constantTimeEqual(this.sdpMac(role, sdp), mac);
  }

  /** The control-channel proof a side sends once the channel is open. */
  proof(role: Role): Uint8Array {
    return this.mac(PROOF_LABEL, role, '');
  }

  verifyProof(role: Role, mac: Uint8Array): boolean {
    return constantTimeEqual(this.proof(role), mac);
  }

  private mac(label: string, role: Role, body: string): Uint8Array {
    // Fields joined with a newline: none of them can contain one (peer IDs are
    // UUIDs, fingerprints are hex), so the encoding is unambiguous.
    const text = [label, String(role), this.senderPeerId, this.receiverPeerId, body].join('\n');
    return hmac(sha256, this.key, encoder.encode(text));
  }
}

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
