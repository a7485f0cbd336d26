// WebSocket close codes the gateway uses, so a client (and a log reader) can
// tell why a connection ended. 4000-4999 are reserved for applications by
// RFC 6455; 1008/1009 are the standard "policy" and "too big" codes.
export const CloseCode = {
  /** Normal closure (client or server done). */
  NORMAL: 1000,
  /** The gateway is shutting down; reconnect with the resume token. */
  GOING_AWAY: 1001,
  /** A single frame exceeded the frame size limit. */
  MESSAGE_TOO_BIG: 1009,
  /**
   * RFC 6455's "Try Again Later": the gateway is busy keeping its peers'
   * leases alive, or too many are connecting at once (ADR 0035). Reconnect
   * with backoff.
   */
  TRY_AGAIN_LATER: 1013,
  /** Too many bad frames (malformed, oversize, rate limited) in a row. */
  TOO_MANY_ERRORS: 4000,
  /** Sustained flooding over the per-connection message rate. */
  RATE_LIMITED: 4001,
  /** No Hello within the handshake deadline. */
  HANDSHAKE_TIMEOUT: 4002,
  /** The peer's lease could not be granted or was lost (presence down, fenced). */
  LEASE_LOST: 4003,
  /** The outbound queue to this client overflowed: it reads too slowly. */
  SLOW_CONSUMER: 4004,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
