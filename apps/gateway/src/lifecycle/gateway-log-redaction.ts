import { type Logger, serializeError } from '@ephemeral/logging';

const CENSOR = '[redacted]';

/**
 * Paths whose values never reach a gateway log line. The gateway's code
 * logs none of these objects (it logs peer IDs, codes, seqs and kinds); this
 * is the second line of defence for a future `logger.debug({ frame })`.
 * The shared defaults of @ephemeral/logging (resumeToken, token, sdp) are
 * repeated here: the gateway's logger replaces its parent's redaction.
 * Enforced by censorSecrets, by the keys these paths end in.
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

/**
 * The keys GATEWAY_REDACT_PATHS end in. The gateway censors them at any
 * depth up to REDACT_MAX_DEPTH (every path above, and more), walking each
 * line's object once and copying only what holds one: pino's path redaction
 * with these wildcard paths allocated ~90 KiB per line (measured with the
 * 'peer welcomed' line), which made every connection's handshake churn the
 * young generation and promote its garbage (ADR 0032).
 */
const SECRET_KEYS: ReadonlySet<string> = new Set(
  GATEWAY_REDACT_PATHS.map((path) => path.slice(path.lastIndexOf('.') + 1)),
);
// Deeper than the deepest path above (*.*.*.*.payload.value.sdp: 7 keys);
// also what bounds the walk through a cyclic object.
const REDACT_MAX_DEPTH = 8;

function isPlainData(value: unknown): value is object {
  return value !== null && typeof value === 'object' && !ArrayBuffer.isView(value);
}

/** `value` with every SECRET_KEYS value censored; `value` itself (no copy) when it holds none. */
export function censorSecrets(value: unknown, depth = 0): unknown {
  if (depth > REDACT_MAX_DEPTH || !isPlainData(value)) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = censorSecrets(value[i], depth + 1);
      if (item !== value[i]) (copy ??= value.slice())[i] = item;
    }
    return copy ?? value;
  }
  let copy: object | undefined;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const item = record[key];
    const next =
      SECRET_KEYS.has(key) && item !== undefined ? CENSOR : censorSecrets(item, depth + 1);
    if (next === item) continue;
    // Same prototype and own properties (an Error keeps its message and stack).
    copy ??= Object.create(
      Object.getPrototypeOf(record) as object | null,
      Object.getOwnPropertyDescriptors(record),
    ) as object;
    Object.defineProperty(copy, key, {
      value: next,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy ?? value;
}

/** The part of a URL after `#` (a share link's secret) never reaches a log line. */
export function withoutFragment(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const hash = value.indexOf('#');
  return hash < 0 ? value : `${value.slice(0, hash)}#${CENSOR}`;
}

// Fields that may hold a URL: their fragment is cut off wherever they are logged.
const URL_FIELDS = ['url', 'href', 'link', 'shareUrl', 'referer', 'referrer', 'location'];

/**
 * The gateway's logger: `logger` with the gateway's secrets censored
 * (censorSecrets), and URL fields stripped of their fragment, bound with
 * `bindings` (gatewayId).
 */
export function withGatewayRedaction(logger: Logger, bindings: Record<string, string>): Logger {
  return logger.child(bindings, {
    // No path redaction (it replaces the parent's: @ephemeral/logging's
    // defaults go too); censorSecrets covers every path, for less.
    redact: [],
    formatters: { log: (object) => censorSecrets(object) as Record<string, unknown> },
    serializers: {
      ...Object.fromEntries(URL_FIELDS.map((field) => [field, withoutFragment])),
      // The deep wildcard paths above copy what they walk into: errors are
      // made plain JSON first, or a gRPC error (its Metadata holds a Map)
      // would turn the whole `err` into "[unable to serialize…]".
      err: serializeError,
    },
  });
}
