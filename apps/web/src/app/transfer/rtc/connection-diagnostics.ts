/**
 * Why a connection could not be made, as the receiver's failure screen
 * tells it: `relay-refused` when a TURN server answered with an error (bad
 * or expired credentials, quota — an operator's problem), `network-blocked`
 * when no candidate pair ever worked and no relay complained (the network
 * lets no peer connection through), `connection-lost` when a path worked
 * but the connection still did not come up.
 */
export type ConnectFailureCause = 'relay-refused' | 'network-blocked' | 'connection-lost';

/** The fields of RTCPeerConnectionIceErrorEvent this reads. */
export interface CandidateErrorLike {
  readonly errorCode: number;
  readonly url?: string;
}

// STUN/TURN error responses are 300–699 (RFC 8489 §14.8: 401 Unauthorized,
// 403 Forbidden, 437 Allocation Mismatch, 438 Stale Nonce, 441 Wrong
// Credentials, 486 Allocation Quota Reached, 508 Insufficient Capacity…).
// Browsers use 701 for "no response from the server", which is the network,
// not a refusal.
const MIN_SERVER_ERROR = 300;
const MAX_SERVER_ERROR = 699;

/** What the connection attempts towards one peer saw, kept across attempts. */
export class ConnectionDiagnostics {
  private relayRefusals = 0;
  private pairSucceeded = false;

  /** An `icecandidateerror`: counts when a TURN server answered with an error. */
  candidateError(event: CandidateErrorLike): void {
    const fromRelay = /^turns?:/i.test(event.url ?? '');
    if (fromRelay && event.errorCode >= MIN_SERVER_ERROR && event.errorCode <= MAX_SERVER_ERROR)
      this.relayRefusals++;
  }

  /** ICE reached 'connected' or 'completed': some candidate pair worked. */
  iceConnected(): void {
    this.pairSucceeded = true;
  }

  /** Everything `other` saw, added to this. */
  merge(other: ConnectionDiagnostics): void {
    this.relayRefusals += other.relayRefusals;
    this.pairSucceeded ||= other.pairSucceeded;
  }

  get cause(): ConnectFailureCause {
    if (this.pairSucceeded) return 'connection-lost';
    return this.relayRefusals > 0 ? 'relay-refused' : 'network-blocked';
  }
}
