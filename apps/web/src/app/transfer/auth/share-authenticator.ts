import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { Role } from '@ephemeral/protocol';
import { SdpFingerprintError, strictDtlsFingerprint } from './sdp-fingerprint';

const encoder = new TextEncoder();
// Domain separation: the same secret yields unrelated keys for unrelated uses,
// and a MAC made for one purpose can never be replayed as another.
const KDF_SALT = encoder.encode('ephemeral-share/v1');
const KDF_INFO = encoder.encode('peer-auth');
const SDP_LABEL = 'sdp-fingerprint';
const PROOF_LABEL = 'connection-proof/v2';

/** The DTLS fingerprints of both ends of one connection, as each side applied them. */
export interface ConnectionFingerprints {
  /** The sender's: the certificate the link pins. */
  readonly senderFingerprint: Uint8Array;
  /** The receiver's, from its offer. */
  readonly receiverFingerprint: Uint8Array;
}

/** What one connection's proof is bound to. */
export interface ConnectionBinding extends ConnectionFingerprints {
  /** The sender's ConnectionChallenge nonce. */
  readonly nonce: Uint8Array;
}

/**
 * MACs keyed from the share secret for one sender/receiver pair.
 *
 * - `sdpMac`: over an offer's one DTLS fingerprint. The sender checks it
 *   before it spends a peer connection on an offer: an admission filter,
 *   not the proof.
 * - `connectionProof`: the receiver's proof that it holds the secret, bound
 *   to this connection — both DTLS fingerprints, both peer IDs and a fresh
 *   nonce of the sender's — so it cannot be replayed on another connection
 *   or relayed through a third party's DTLS session.
 *
 * The sender proves nothing with the secret: every holder of the link knows
 * it. The receiver knows it reached the sender because the answer it applied
 * carried exactly the certificate fingerprint the link pins.
 */
export class ShareAuthenticator {
  private readonly key: Uint8Array;

  constructor(
    secret: Uint8Array,
    readonly senderPeerId: string,
    readonly receiverPeerId: string,
  ) {
    if (secret.length === 0) throw new Error('empty share secret');
    this.key = hkdf(sha256, secret, KDF_SALT, KDF_INFO, 32);
  }

  /** MAC over the role that made `sdp`, both peer IDs and its one fingerprint. */
  sdpMac(role: Role, sdp: string): Uint8Array {
    return this.mac(SDP_LABEL, role, [strictDtlsFingerprint(sdp)]);
  }

  /** False for a wrong MAC, and for an SDP whose fingerprint is not strictly one. */
  verifySdp(role: Role, sdp: string, mac: Uint8Array): boolean {
    try {
      return constantTimeEqual(this.sdpMac(role, sdp), mac);
    } catch (error) {
      if (error instanceof SdpFingerprintError) return false;
      throw error;
    }
  }

  connectionProof(binding: ConnectionBinding): Uint8Array {
    return this.mac(PROOF_LABEL, Role.ROLE_RECEIVER, [
      binding.senderFingerprint,
      binding.receiverFingerprint,
      binding.nonce,
    ]);
  }

  verifyConnectionProof(binding: ConnectionBinding, mac: Uint8Array): boolean {
    return constantTimeEqual(this.connectionProof(binding), mac);
  }

  private mac(label: string, role: Role, fields: Uint8Array[]): Uint8Array {
    // Text fields joined with a newline (none can contain one: peer IDs are
    // UUIDs), binary fields as fixed-length hex: the encoding is unambiguous.
    const text = [
      label,
      String(role),
      this.senderPeerId,
      this.receiverPeerId,
      ...fields.map(toHex),
    ].join('\n');
    return hmac(sha256, this.key, encoder.encode(text));
  }
}

function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
