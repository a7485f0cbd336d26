/**
 * Why an Origin is let in (or not):
 * - `same-host`: the page's host is the host the request was made to, i.e.
 *   the app this gateway serves (`Origin: https://share.example.com` on a
 *   request with `Host: share.example.com`, whatever ingress is in front);
 * - `listed`: the origin is in `ALLOWED_ORIGINS`;
 * - `absent`: no Origin header. Browsers always send one on a WebSocket
 *   upgrade, so this is a non-browser client (a service, a test client, a
 *   CLI), which could put any Origin it likes anyway: the check protects
 *   browsers' users from other sites (cross-site WebSocket hijacking), it
 *   does not authenticate clients;
 * - `refused`: anything else, `Origin: null` (sandboxed frames, file:)
 *   and unparsable values included.
 */
export type OriginVerdict = 'same-host' | 'listed' | 'absent' | 'refused';

// What may stand between `//` and the end of a Host header: a host and an
// optional port, no userinfo, path, query or fragment.
const HOST_HEADER = /^[^\s/?#@\\]+$/;

/** The `host[:port]` of `host` as a URL of `scheme` would spell it (default port elided). */
function hostAs(scheme: string, host: string): string | undefined {
  if (!HOST_HEADER.test(host)) return undefined;
  try {
    return new URL(`${scheme}//${host}`).host;
  } catch {
    return undefined;
  }
}

/** Decides whether a WebSocket upgrade's Origin may open a connection. */
export class OriginPolicy {
  private readonly listed: ReadonlySet<string>;

  /** `allowedOrigins`: normalized origins (`URL.origin`), as the config holds them. */
  constructor(allowedOrigins: readonly string[]) {
    this.listed = new Set(allowedOrigins);
  }

  /** `origin`: the Origin header; `host`: the host the client asked for (see TrustedProxies.requestHost). */
  check(origin: string | undefined, host: string | undefined): OriginVerdict {
    if (origin === undefined) return 'absent';
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return 'refused';
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'refused';
    // Both sides through the same URL parser: case, punycode, IPv6 brackets
    // and default ports compare equal however the client wrote them. A Host
    // without a port means the default port of the page's scheme.
    if (host !== undefined && hostAs(url.protocol, host) === url.host) return 'same-host';
    return this.listed.has(url.origin) ? 'listed' : 'refused';
  }
}
