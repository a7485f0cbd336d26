import { signal } from '@angular/core';

import type { Identity } from '@ephemeral/protocol';

import type { SignalingClient } from '../signaling/signaling-client';

/** A peer whose identity the gateway verified and stamped on its signals. */
export interface VerifiedPeer {
  peerId: string;
  identity: Identity;
  /** `opened`: it sent an offer (a receiver of our share); `shares`: it answered ours. */
  role: 'opened' | 'shares';
}

// A share has at most a few dozen receivers; keep the list bounded anyway.
const MAX_LISTED = 100;

/** The verified people this page exchanged signals with, newest last. */
export const verifiedPeers = signal<readonly VerifiedPeer[]>([]);

/** "Bob Martin (bob@example.com)", or the name alone without an email. */
export function describeIdentity(identity: Identity): string {
  const name = identity.displayName || identity.subject;
  return identity.email ? `${name} (${identity.email})` : name;
}

/** Records the identities the gateway stamped on `client`'s incoming offers and answers. */
export function watchVerifiedPeers(client: SignalingClient): void {
  client.on('identity', (peerId, identity, kind) => {
    if (kind !== 'offer' && kind !== 'answer') return;
    const role: VerifiedPeer['role'] = kind === 'offer' ? 'opened' : 'shares';
    const others = verifiedPeers().filter((peer) => peer.peerId !== peerId);
    verifiedPeers.set([...others, { peerId, identity, role }].slice(-MAX_LISTED));
  });
}
