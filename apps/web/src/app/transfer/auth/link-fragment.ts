import { toBase64Url, fromBase64Url, parseSecret } from './share-secret';
import { FINGERPRINT_BYTES } from './sdp-fingerprint';

/**
 * What a share link's `#fragment` carries (browsers never send it to a
 * server): the share secret and the sender certificate's fingerprint,
 * `#<secret>.<fingerprint>`, both base64url. Links from before certificate
 * pinning carried only `#<secret>`.
 */
export type LinkFragment =
  | { kind: 'valid'; secret: Uint8Array; fingerprint: Uint8Array }
  /** A link from an older version: a secret but no certificate to pin. */
  | { kind: 'outdated' }
  | { kind: 'invalid' };

export function formatLinkFragment(secret: string, fingerprint: Uint8Array): string {
  return `${secret}.${toBase64Url(fingerprint)}`;
}

export function parseLinkFragment(fragment: string): LinkFragment {
  const text = fragment.startsWith('#') ? fragment.slice(1) : fragment;
  const parts = text.split('.');
  if (parts.length === 1) return parseSecret(text) ? { kind: 'outdated' } : { kind: 'invalid' };
  if (parts.length !== 2) return { kind: 'invalid' };
  const secret = parseSecret(parts[0]);
  const fingerprint = /^[A-Za-z0-9_-]{43}$/.test(parts[1]) ? fromBase64Url(parts[1]) : null;
  if (!secret || fingerprint?.length !== FINGERPRINT_BYTES) return { kind: 'invalid' };
  return { kind: 'valid', secret, fingerprint };
}
