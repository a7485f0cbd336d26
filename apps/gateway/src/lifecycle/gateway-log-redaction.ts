import { type Logger, serializeError } from '@ephemeral/logging';

const CENSOR = '[redacted]';

/**
 * Paths whose values never reach a gateway log line. The gateway's code
 * logs none of these objects (it logs peer IDs, codes, seqs and kinds); this
 * is the second line of defence for a future `logger.debug({ frame })`.
 * A child logger's `redact` replaces its parent's, so the shared defaults of
 * @ephemeral/logging (resumeToken, token, sdp) are repeated here.
 */
export const GATEWAY_REDACT_PATHS: readonly string[] = [
  // Resume tokens: as a field, in Hello/Welcome, in a decoded ClientFrame/ServerFrame.
  'resumeToken',
  '*.resumeToken',
  '*.value.resumeToken',
  '*.*.value.resumeToken',
  'resumeTokenSha256',
  '*.resumeTokenSha256',
  'token',
  '*.token',
  // SDP bodies: as a field, in an Offer/Answer, in a Signal, PeerSignal or frame.
  'sdp',
  '*.sdp',
  '*.value.sdp',
  'payload.value.sdp',
  '*.payload.value.sdp',
  '*.*.payload.value.sdp',
  '*.*.*.payload.value.sdp',
  '*.*.*.*.payload.value.sdp',
  // TURN: the shared secret (config.turn.secret, TURN_SECRET) and minted credentials.
  'secret',
  '*.secret',
  '*.*.secret',
  'TURN_SECRET',
  '*.TURN_SECRET',
  'credential',
  '*.credential',
  'iceServers[*].credential',
  '*.iceServers[*].credential',
  '*.*.iceServers[*].credential',
  '*.value.iceServers[*].credential',
  '*.*.value.iceServers[*].credential',
  // HTTP credentials, should a request ever be logged.
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
];

/** The part of a URL after `#` (a share link's secret) never reaches a log line. */
export function withoutFragment(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const hash = value.indexOf('#');
  return hash < 0 ? value : `${value.slice(0, hash)}#${CENSOR}`;
}

// Fields that may hold a URL: their fragment is cut off wherever they are logged.
const URL_FIELDS = ['url', 'href', 'link', 'shareUrl', 'referer', 'referrer', 'location'];

/**
 * The gateway's logger: `logger` with the gateway's redaction paths, and URL
 * fields stripped of their fragment, bound with `bindings` (gatewayId).
 */
export function withGatewayRedaction(logger: Logger, bindings: Record<string, string>): Logger {
  return logger.child(bindings, {
    redact: { paths: [...GATEWAY_REDACT_PATHS], censor: CENSOR },
    serializers: {
      ...Object.fromEntries(URL_FIELDS.map((field) => [field, withoutFragment])),
      // The deep wildcard paths above copy what they walk into: errors are
      // made plain JSON first, or a gRPC error (its Metadata holds a Map)
      // would turn the whole `err` into "[unable to serialize…]".
      err: serializeError,
    },
  });
}
