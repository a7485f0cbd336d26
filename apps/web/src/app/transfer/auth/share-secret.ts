// The share secret lives only in the URL fragment (`#<secret>`), which browsers
// never send to a server. 144 random bits: above the 128-bit floor, and a
// multiple of 6 bits so the base64url text has no padding (24 characters).
export const SECRET_BYTES = 18;
/** Shortest secret a link may carry: 128 bits. */
export const MIN_SECRET_BYTES = 16;
const MAX_SECRET_CHARS = 256;

export function generateSecret(
  random: (bytes: Uint8Array<ArrayBuffer>) => void = (b) => crypto.getRandomValues(b),
): string {
  const bytes = new Uint8Array(SECRET_BYTES);
  random(bytes);
  return toBase64Url(bytes);
}

/** Decodes a link's secret; null when it is not base64url or too short. */
export function parseSecret(text: string): Uint8Array | null {
  if (text.length === 0 || text.length > MAX_SECRET_CHARS || !/^[A-Za-z0-9_-]+$/.test(text))
    return null;
  const bytes = fromBase64Url(text);
  return bytes && bytes.length >= MIN_SECRET_BYTES ? bytes : null;
}

/** A secret that should be valid (this page made it) was not: never fall back to an empty key. */
export class InvalidSecretError extends Error {
  constructor() {
    super('the share secret is not a base64url string of at least 128 bits');
    this.name = 'InvalidSecretError';
  }
}

/** Decodes a secret this page generated; throws rather than return a weaker key. */
export function secretBytes(text: string): Uint8Array {
  const bytes = parseSecret(text);
  if (!bytes) throw new InvalidSecretError();
  return bytes;
}

export function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64Url(text: string): Uint8Array | null {
  if (text.length % 4 === 1) return null;
  const padded =
    text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  try {
    const binary = atob(padded);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return null;
  }
}
