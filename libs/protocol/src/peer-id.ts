// Peer IDs are UUID v4 strings in lowercase canonical form (122 random bits),
// assigned by the gateway. Anything else is refused at the edge, so logs,
// Kafka keys and Redis keys only ever hold this shape.
const PEER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Length of every valid peer ID; lets callers reject long input before the regex. */
export const PEER_ID_LENGTH = 36;

export function isPeerId(value: unknown): value is string {
  return typeof value === 'string' && value.length === PEER_ID_LENGTH && PEER_ID.test(value);
}
