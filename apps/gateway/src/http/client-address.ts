import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/** One `TRUSTED_PROXIES` entry: an address and a prefix length (`10.0.0.0/8`, `::1/128`). */
export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** `a.b.c.d/n`, `v6/n`, or a bare address (a /32 or /128); undefined when it is neither. */
export function parseCidr(text: string): Cidr | undefined {
  const [rawAddress, rawPrefix, ...rest] = text.trim().split('/');
  if (rest.length > 0 || rawAddress === undefined) return undefined;
  const version = isIP(rawAddress);
  if (version === 0) return undefined;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const max = version === 4 ? 32 : 128;
  if (rawPrefix === undefined) return { address: rawAddress, prefix: max, family };
  if (!/^\d{1,3}$/.test(rawPrefix)) return undefined;
  const prefix = Number(rawPrefix);
  return prefix <= max ? { address: rawAddress, prefix, family } : undefined;
}

/**
 * An address as the gateway compares and logs it: IPv4-mapped IPv6
 * (`::ffff:10.0.0.1`, what a dual-stack socket reports) as plain IPv4, and
 * the forms proxies put in `X-Forwarded-For` (`1.2.3.4:5678`, `[::1]:80`,
 * `[::1]`) without port or brackets. Undefined when it is not an IP address.
 */
export function normalizeAddress(text: string | undefined): string | undefined {
  if (!text) return undefined;
  let address = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) address = bracketed[1] ?? '';
  else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d+$/.test(address)) address = address.replace(/:\d+$/, '');
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) address = mapped[1] ?? '';
  return isIP(address) === 0 ? undefined : address.toLowerCase();
}

/** The first value of a header that may be repeated or comma-separated. */
function firstValue(header: string | string[] | undefined): string | undefined {
  const text = Array.isArray(header) ? header[0] : header;
  const first = text?.split(',')[0]?.trim();
  return first ? first : undefined;
}

/**
 * `TRUSTED_PROXIES`: the TCP peers (an ingress controller, a load balancer)
 * whose `X-Forwarded-*` headers the gateway believes. Anyone else can write
 * those headers, so for them the socket address and the request itself are
 * the only truth.
 */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly size: number;

  constructor(cidrs: readonly Cidr[]) {
    for (const cidr of cidrs) this.list.addSubnet(cidr.address, cidr.prefix, cidr.family);
    this.size = cidrs.length;
  }

  /** Whether `address` (normalized) is a trusted proxy. */
  has(address: string | undefined): boolean {
    if (this.size === 0 || !address) return false;
    return this.list.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');
  }

  /** Whether the request came (directly) from a trusted proxy. */
  fromProxy(request: IncomingMessage): boolean {
    return this.has(normalizeAddress(request.socket.remoteAddress));
  }

  /**
   * The client's IP address: the socket's peer, unless that is a trusted
   * proxy; then `X-Forwarded-For` read from the right (the hop nearest the
   * gateway), skipping trusted proxies, up to the first address that is not
   * one. Entries left of that were written by the client and are ignored; an
   * entry that is not an address stops the walk at the hop that wrote it.
   */
  clientAddress(request: IncomingMessage): string {
    let address = normalizeAddress(request.socket.remoteAddress) ?? 'unknown';
    if (!this.has(address)) return address;
    const header = request.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalizeAddress(hops[i]);
      if (!hop) break;
      address = hop;
      if (!this.has(hop)) break;
    }
    return address;
  }

  /**
   * Whether the client reached the site over TLS: a TLS socket, or a trusted
   * proxy saying so (`X-Forwarded-Proto: https`, first value: the hop that
   * faced the client).
   */
  isTls(request: IncomingMessage): boolean {
    if ((request.socket as { encrypted?: boolean }).encrypted) return true;
    if (!this.fromProxy(request)) return false;
    return firstValue(request.headers['x-forwarded-proto'])?.toLowerCase() === 'https';
  }

  /**
   * The host the client asked for: a trusted proxy's `X-Forwarded-Host`
   * (for proxies that rewrite `Host`), otherwise the `Host` header.
   */
  requestHost(request: IncomingMessage): string | undefined {
    if (this.fromProxy(request)) {
      const forwarded = firstValue(request.headers['x-forwarded-host']);
      if (forwarded) return forwarded;
    }
    return request.headers.host;
  }
}
