/** `https://host/s/<peerId>#<secret>`: the fragment never leaves the browser. */
export function shareLink(origin: string, peerId: string, secret: string): string {
  return `${origin}/s/${encodeURIComponent(peerId)}#${secret}`;
}

/** The secret from `location.hash` ("#abc" -> "abc"). */
export function secretFromHash(hash: string): string {
  return hash.startsWith('#') ? hash.slice(1) : hash;
}
