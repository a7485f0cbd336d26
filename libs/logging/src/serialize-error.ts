import pino from 'pino';

type SerializedError = ReturnType<typeof pino.stdSerializers.err>;

/**
 * The `err` field of every log line: pino's own err serializer (type,
 * message, stack, cause, and the error's own fields such as `code`), then
 * made plain JSON. Redaction with wildcard paths copies the objects it walks
 * into, and a copied field whose toJSON needs its internals breaks the whole
 * line (gRPC's Metadata keeps a Map: the gateway logged `"err":"[unable to
 * serialize…]"` for every failed presence call). Rendering the fields first
 * leaves redaction nothing but plain objects. A value that is not an Error is
 * logged as it is.
 */
export function serializeError(value: unknown): unknown {
  const serialized: SerializedError | unknown = pino.stdSerializers.err(value as Error);
  if (serialized === value) return value;
  const error = serialized as SerializedError;
  try {
    return JSON.parse(JSON.stringify(error)) as unknown;
  } catch {
    // A field that cannot be rendered (a toJSON that throws): the essentials.
    return { type: error.type, message: error.message, stack: error.stack };
  }
}
