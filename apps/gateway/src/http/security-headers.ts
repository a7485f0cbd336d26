import type { IncomingMessage, ServerResponse } from 'node:http';

import type { TrustedProxies } from './client-address';

// The app page only loads its own bundles and talks to its own origin over
// WebSocket; styles may be inlined by the Angular build. 'wasm-unsafe-eval'
// lets the page compile WebAssembly (the SHA-256 of every transferred file,
// hash-wasm) without allowing eval() of JavaScript. Data and blob URLs
// cover QR codes and downloads assembled in the page. connect-src is
// completed per request (connectSources).
const POLICY_BEFORE_CONNECT = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
];
const POLICY_AFTER_CONNECT = [
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
];

// A host name or bracketed IPv6 address and an optional port: nothing that
// could end the header or the source expression. Anything else gets 'self'
// alone.
const SAFE_HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * The page talks to the gateway that served it, over ws: or wss: on the same
 * host (signaling-client.ts gatewayUrl). CSP Level 3 lets 'self' match
 * those (current Chromium and Firefox do), but a CSP Level 2 browser (older
 * Safari releases among them) matches 'self' only with http(s): the explicit
 * ws:// and wss:// forms of the page's own host cover them. Still nothing
 * but the page's own host: no WebSocket to anywhere else.
 */
export function connectSources(host: string | undefined, extra: readonly string[] = []): string {
  const others = extra.map((origin) => ` ${origin}`).join('');
  if (host === undefined || !SAFE_HOST.test(host)) return `connect-src 'self'${others}`;
  const own = host.toLowerCase();
  return `connect-src 'self' ws://${own} wss://${own}${others}`;
}

/** The Content-Security-Policy for a page requested at `host`. */
export function contentSecurityPolicy(
  host: string | undefined,
  extraConnect: readonly string[] = [],
): string {
  return [
    ...POLICY_BEFORE_CONNECT,
    connectSources(host, extraConnect),
    ...POLICY_AFTER_CONNECT,
  ].join('; ');
}

// One year and every subdomain: what browsers' preload lists ask for. Only
// on responses the client got over TLS (browsers ignore it over plain HTTP,
// and a plain-HTTP gateway on loopback must stay reachable).
export const STRICT_TRANSPORT_SECURITY = 'max-age=31536000; includeSubDomains';

const HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['X-Content-Type-Options', 'nosniff'],
  // The share path names a peer ID: never leak it to another site.
  ['Referrer-Policy', 'no-referrer'],
  ['X-Frame-Options', 'DENY'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Permissions-Policy', 'camera=(), microphone=(), geolocation=()'],
];

/**
 * Express-style middleware adding the headers every response gets: the CSP
 * (connect-src for the host asked for), HSTS when the client came over TLS
 * (a TLS socket, or `X-Forwarded-Proto: https` from a trusted proxy).
 */
export function securityHeaders(
  proxies: TrustedProxies,
  /** Origins the page may also fetch from: the OpenID issuer with sign-in on (its discovery, token and JWKS endpoints). */
  extraConnect: readonly string[] = [],
): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  return (req, res, next) => {
    res.setHeader(
      'Content-Security-Policy',
      contentSecurityPolicy(proxies.requestHost(req), extraConnect),
    );
    for (const [name, value] of HEADERS) res.setHeader(name, value);
    if (proxies.isTls(req)) res.setHeader('Strict-Transport-Security', STRICT_TRANSPORT_SECURITY);
    next();
  };
}
