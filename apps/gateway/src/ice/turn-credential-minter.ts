import { createHmac } from 'node:crypto';

import type { IceServer } from '@ephemeral/protocol';

import type { TurnConfig } from '../config/gateway-config';

/**
 * The ICE servers a Welcome carries: the configured ones (STUN, static TURN)
 * plus, when TURN_SECRET and TURN_URLS are set, a TURN entry with a
 * short-lived credential for this peer — the TURN REST API scheme coturn
 * checks with `use-auth-secret`:
 *
 *   username   = "<expiry unix seconds>:<peerId>"
 *   credential = base64(HMAC-SHA1(secret, username))
 *
 * The TURN server recomputes the HMAC with the same secret and refuses
 * expired usernames, so no per-user state is shared with it. The secret
 * never leaves this class (not logged, not sent).
 */
export class TurnCredentialMinter {
  constructor(
    private readonly staticServers: IceServer[],
    private readonly turn: TurnConfig | null,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** How long minted credentials stay valid; 0 when none are minted (nothing expires). */
  get validSeconds(): number {
    return this.turn?.ttlSeconds ?? 0;
  }

  /** The configured servers without a minted TURN entry (peers not allowed to relay). */
  get staticIceServers(): IceServer[] {
    return this.staticServers;
  }

  iceServersFor(peerId: string): IceServer[] {
    if (!this.turn) return this.staticServers;
    const expiresAt = Math.floor(this.nowMs() / 1000) + this.turn.ttlSeconds;
    const username = `${expiresAt}:${peerId}`;
    const credential = createHmac('sha1', this.turn.secret).update(username).digest('base64');
    return [...this.staticServers, { urls: this.turn.urls, username, credential }];
  }
}
