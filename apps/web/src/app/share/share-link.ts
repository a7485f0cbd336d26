/**
 * `https://host/s/<peerId>#<fragment>`: the fragment (the secret and the
 * sender certificate's fingerprint, see link-fragment.ts) never leaves the
 * browser.
 */
export function shareLink(origin: string, peerId: string, fragment: string): string {
  return `${origin}/s/${encodeURIComponent(peerId)}#${fragment}`;
}
