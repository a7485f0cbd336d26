/**
 * The text of a thrown value, for the rare place that needs a string (an
 * error's own message, a line on stderr).
 *
 * Log lines do not use it: they pass the value itself as `err`
 * (`logger.warn({ err: error }, '…')`). pino's `err` serializer keeps an
 * Error's type, message, stack, cause and own fields, and passes anything
 * else through as it is; a message alone would drop the stack.
 */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
