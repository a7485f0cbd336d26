import type { IncomingMessage, ServerResponse } from 'node:http';

// The app page only loads its own bundles and talks to its own origin over
// WebSocket; styles may be inlined by the Angular build. 'wasm-unsafe-eval'
// lets the page compile WebAssembly (the SHA-256 of every transferred file,
// hash-wasm) without allowing eval() of JavaScript. Data and blob URLs
// cover QR codes and downloads assembled in the page.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self' ws: wss:",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
].join('; ');

const HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Content-Security-Policy', CONTENT_SECURITY_POLICY],
  ['X-Content-Type-Options', 'nosniff'],
  // The share path names a peer ID: never leak it to another site.
  ['Referrer-Policy', 'no-referrer'],
  ['X-Frame-Options', 'DENY'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Permissions-Policy', 'camera=(), microphone=(), geolocation=()'],
];

/** Express-style middleware adding the headers every response gets. */
export function securityHeaders(
  _req: IncomingMessage,
  res: ServerResponse,
  next: () => void,
): void {
  for (const [name, value] of HEADERS) res.setHeader(name, value);
  next();
}
