import type { IncomingMessage, ServerResponse } from 'node:http';

import { parseCidr, TrustedProxies } from './client-address';
import { connectSources, securityHeaders, STRICT_TRANSPORT_SECURITY } from './security-headers';

function headersFor(
  proxies: TrustedProxies,
  remoteAddress: string,
  headers: IncomingMessage['headers'],
): Map<string, string> {
  const set = new Map<string, string>();
  const req = { socket: { remoteAddress }, headers } as unknown as IncomingMessage;
  const res = {
    setHeader: (name: string, value: string) => set.set(name.toLowerCase(), value),
  } as unknown as ServerResponse;
  let nextCalled = false;
  securityHeaders(proxies)(req, res, () => (nextCalled = true));
  expect(nextCalled).toBe(true);
  return set;
}

const ingress = parseCidr('10.0.0.0/8');
const behindIngress = new TrustedProxies(ingress ? [ingress] : []);

describe('securityHeaders', () => {
  it('lets the page connect to its own host only (ws and wss forms spelled out)', () => {
    const set = headersFor(new TrustedProxies([]), '127.0.0.1', { host: '127.0.0.1:8080' });
    const csp = set.get('content-security-policy') ?? '';
    expect(csp).toContain("connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080;");
    expect(csp).not.toMatch(/connect-src[^;]*\bwss?:(?!\/\/)/);
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it("falls back to 'self' alone for a host that is not a plain host[:port]", () => {
    expect(connectSources(undefined)).toBe("connect-src 'self'");
    expect(connectSources('evil.example; script-src *')).toBe("connect-src 'self'");
    expect(connectSources('a b')).toBe("connect-src 'self'");
    expect(connectSources('[::1]:8080')).toBe(
      "connect-src 'self' ws://[::1]:8080 wss://[::1]:8080",
    );
  });

  it('sends HSTS only when a trusted proxy says the client came over https', () => {
    const tls = headersFor(behindIngress, '10.1.2.3', {
      host: 'share.example.com',
      'x-forwarded-proto': 'https',
    });
    expect(tls.get('strict-transport-security')).toBe(STRICT_TRANSPORT_SECURITY);
    expect(STRICT_TRANSPORT_SECURITY).toBe('max-age=31536000; includeSubDomains');

    const forged = headersFor(behindIngress, '203.0.113.9', {
      host: 'share.example.com',
      'x-forwarded-proto': 'https',
    });
    expect(forged.has('strict-transport-security')).toBe(false);
    const plain = headersFor(behindIngress, '10.1.2.3', { host: 'share.example.com' });
    expect(plain.has('strict-transport-security')).toBe(false);
  });
});
