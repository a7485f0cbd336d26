import { sha256 } from '@noble/hashes/sha2.js';
import { fingerprintFromHex, strictDtlsFingerprint } from './sdp-fingerprint';

/**
 * The sender's DTLS certificate for one share: every receiver's connection
 * uses it, and its fingerprint goes into the link next to the secret, so a
 * receiver can tell the sender's browser from anyone else who holds the
 * link (another recipient, or a hostile gateway working with one).
 */
export interface ShareCertificate {
  readonly certificate: RTCCertificate;
  /** SHA-256 of the certificate (DER), as the link and the SDP carry it. */
  readonly fingerprint: Uint8Array;
}

/** Makes the share's certificate: ECDSA P-256, what both engines default to. */
export async function generateShareCertificate(): Promise<ShareCertificate> {
  const certificate = await RTCPeerConnection.generateCertificate({
    name: 'ECDSA',
    namedCurve: 'P-256',
  } as EcKeyGenParams);
  return { certificate, fingerprint: await certificateFingerprint(certificate) };
}

async function certificateFingerprint(certificate: RTCCertificate): Promise<Uint8Array> {
  const listed = certificate.getFingerprints?.().find((f) => f.algorithm === 'sha-256');
  if (listed?.value) return fingerprintFromHex(listed.value);
  // An engine without getFingerprints(): read it from an offer made with it.
  const pc = new RTCPeerConnection({ certificates: [certificate] });
  try {
    pc.createDataChannel('probe');
    const offer = await pc.createOffer();
    return strictDtlsFingerprint(offer.sdp ?? '');
  } finally {
    pc.close();
  }
}

/** SHA-256 of a DER certificate, to compare with a fingerprint. */
export function derFingerprint(der: ArrayBuffer): Uint8Array {
  return sha256(new Uint8Array(der));
}
