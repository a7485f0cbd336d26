import type { IncomingMessage } from 'node:http';

import { normalizeAddress, parseCidr, TrustedProxies } from './client-address';

function request(
  remoteAddress: string | undefined,
  headers: IncomingMessage['headers'] = {},
  encrypted = false,
): IncomingMessage {
  return { socket: { remoteAddress, encrypted }, headers } as unknown as IncomingMessage;
}

function trusting(...cidrs: string[]): TrustedProxies {
  return new TrustedProxies(
    cidrs.map((text) => {
      const cidr = parseCidr(text);
      if (!cidr) throw new Error(`bad CIDR in spec: ${text}`);
      return cidr;
    }),
  );
}

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', { address: '10.0.0.0', prefix: 8, family: 'ipv4' }],
    ['127.0.0.1', { address: '127.0.0.1', prefix: 32, family: 'ipv4' }],
    ['::1', { address: '::1', prefix: 128, family: 'ipv6' }],
    ['fd00::/8', { address: 'fd00::', prefix: 8, family: 'ipv6' }],
  ])('reads %s', (text, cidr) => {
    expect(parseCidr(text)).toEqual(cidr);
  });

  it.each(['10.0.0.0/33', '::/129', 'localhost', '10.0.0/8', '10.0.0.0/x', '10.0.0.0/8/8', ''])(
    'refuses %j',
    (text) => {
      expect(parseCidr(text)).toBeUndefined();
    },
  );
});

describe('normalizeAddress', () => {
  it.each([
    ['::ffff:10.1.2.3', '10.1.2.3'],
    [' 203.0.113.9 ', '203.0.113.9'],
    ['203.0.113.9:51234', '203.0.113.9'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['[2001:DB8::1]', '2001:db8::1'],
    ['2001:db8::1', '2001:db8::1'],
  ])('%j is %j', (text, address) => {
    expect(normalizeAddress(text)).toBe(address);
  });

  it.each(['unknown', '', 'example.com', '1.2.3.4.5'])('%j is not an address', (text) => {
    expect(normalizeAddress(text)).toBeUndefined();
  });
});

describe('TrustedProxies', () => {
  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    const proxies = trusting('10.0.0.0/8');
    const forged = request('203.0.113.9', { 'x-forwarded-for': '198.51.100.1' });
    expect(proxies.clientAddress(forged)).toBe('203.0.113.9');
    expect(trusting().clientAddress(forged)).toBe('203.0.113.9');
  });

  it('takes the client from X-Forwarded-For behind a trusted proxy', () => {
    const proxies = trusting('10.0.0.0/8');
    expect(
      proxies.clientAddress(request('::ffff:10.0.3.4', { 'x-forwarded-for': '198.51.100.1' })),
    ).toBe('198.51.100.1');
  });

  it('reads X-Forwarded-For from the right, skipping trusted hops, ignoring what the client wrote', () => {
    const proxies = trusting('10.0.0.0/8');
    // The client wrote 6.6.6.6 itself; 198.51.100.1 is what the edge saw; 10.0.0.5 is a second proxy.
    const chained = request('10.0.3.4', {
      'x-forwarded-for': '6.6.6.6, 198.51.100.1, 10.0.0.5',
    });
    expect(proxies.clientAddress(chained)).toBe('198.51.100.1');
    const repeated = request('10.0.3.4', { 'x-forwarded-for': ['6.6.6.6', '198.51.100.1'] });
    expect(proxies.clientAddress(repeated)).toBe('198.51.100.1');
  });

  it('stops at a hop that is not an address, and uses the proxy itself without the header', () => {
    const proxies = trusting('10.0.0.0/8');
    expect(
      proxies.clientAddress(request('10.0.3.4', { 'x-forwarded-for': '198.51.100.1, garbage' })),
    ).toBe('10.0.3.4');
    expect(proxies.clientAddress(request('10.0.3.4'))).toBe('10.0.3.4');
    expect(proxies.clientAddress(request(undefined))).toBe('unknown');
  });

  it('says TLS for a TLS socket, or X-Forwarded-Proto: https from a trusted proxy only', () => {
    const proxies = trusting('10.0.0.0/8');
    expect(proxies.isTls(request('203.0.113.9', {}, true))).toBe(true);
    expect(proxies.isTls(request('10.0.0.1', { 'x-forwarded-proto': 'https' }))).toBe(true);
    expect(proxies.isTls(request('10.0.0.1', { 'x-forwarded-proto': 'HTTPS, http' }))).toBe(true);
    expect(proxies.isTls(request('10.0.0.1', { 'x-forwarded-proto': 'http' }))).toBe(false);
    expect(proxies.isTls(request('10.0.0.1'))).toBe(false);
    expect(proxies.isTls(request('203.0.113.9', { 'x-forwarded-proto': 'https' }))).toBe(false);
  });

  it('takes X-Forwarded-Host only from a trusted proxy', () => {
    const proxies = trusting('10.0.0.0/8');
    const headers = { host: 'gateway:8080', 'x-forwarded-host': 'share.example.com' };
    expect(proxies.requestHost(request('10.0.0.1', headers))).toBe('share.example.com');
    expect(proxies.requestHost(request('203.0.113.9', headers))).toBe('gateway:8080');
    expect(proxies.requestHost(request('10.0.0.1', { host: 'gateway:8080' }))).toBe('gateway:8080');
  });
});
