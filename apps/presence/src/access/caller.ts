import type { PeerCertificate } from 'node:tls';

/**
 * Who made a call. With mTLS, a gateway proven by its client certificate
 * (the subject CN is its gateway ID); without, only the address it came
 * from, which proves nothing and is used for per-caller limits alone.
 */
export type Caller =
  | { readonly kind: 'gateway'; readonly gatewayId: string }
  | { readonly kind: 'address'; readonly address: string };

/** The part of a grpc-js server call that says who is calling. */
export interface CallerSource {
  getPeer(): string;
  getAuthContext(): { readonly sslPeerCertificate?: PeerCertificate };
}

/** The caller as one string for logs and per-caller counts: `gateway:gw-1`, `address:10.0.0.7`. */
export function callerKey(caller: Caller): string {
  return caller.kind === 'gateway' ? `gateway:${caller.gatewayId}` : `address:${caller.address}`;
}

/**
 * The host part of grpc-js's `getPeer()` (`10.0.0.7:53122`, `::1:53122`):
 * one client opens a new source port per connection, so the port would let
 * it dodge a per-caller limit.
 */
export function peerAddress(peer: string): string {
  return peer.replace(/:\d+$/, '');
}
