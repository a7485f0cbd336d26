import { type handleUnaryCall, type ServerUnaryCall, status } from '@grpc/grpc-js';
import type { Logger } from '@ephemeral/logging';
import { callAlreadyOver } from './call-deadline';
import { type GrpcErrorStatus, grpcErrorStatus } from './grpc-error-status';

/**
 * Adapts an async handler to grpc-js: skips the work when the call is already
 * over, maps thrown errors to a status (INTERNAL for the unexpected) and logs
 * every refusal as one structured line. A handler can never crash the process.
 */
export function unaryCallHandler<Request, Response>(
  method: string,
  logger: Logger,
  /** Gets the call too, for who is calling (LeaseAccessPolicy.callerOf). */
  handle: (request: Request, call: ServerUnaryCall<Request, Response>) => Promise<Response>,
): handleUnaryCall<Request, Response> {
  return (call, callback) => {
    const over = callAlreadyOver(call);
    if (over) {
      logger.warn({ method, code: status[over.code] }, `${method} skipped: ${over.details}`);
      callback({ code: over.code, details: over.details });
      return;
    }
    // `then` on a resolved promise also catches a handler that throws synchronously.
    Promise.resolve()
      .then(() => handle(call.request, call))
      .then(
        (response) => callback(null, response),
        (error: unknown) => {
          const refusal = logRefusal(logger, method, error);
          callback({ code: refusal.code, details: refusal.details });
        },
      )
      .catch((error: unknown) => {
        // Only reachable if grpc-js itself throws from callback.
        logger.error({ method, err: error }, `${method} could not answer`);
      });
  };
}

/**
 * The status for `error`, logged as one structured line: INTERNAL as an
 * error with its cause, a refusal as a warning (NOT_FOUND as info).
 * `fields` adds context, such as a batch item's index.
 */
export function logRefusal(
  logger: Logger,
  method: string,
  error: unknown,
  fields: Record<string, unknown> = {},
): GrpcErrorStatus {
  const refusal = grpcErrorStatus(error);
  if (refusal.code === status.INTERNAL) {
    logger.error({ method, code: 'INTERNAL', ...fields, err: error }, `${method} failed`);
  } else {
    // NOT_FOUND is everyday traffic (the gateway looks up peers that
    // left); the other refusals point at a misbehaving caller.
    const level = refusal.code === status.NOT_FOUND ? 'info' : 'warn';
    logger[level](
      { method, code: status[refusal.code], ...fields, ...refusal.logFields },
      `${method} refused: ${refusal.details}`,
    );
  }
  return refusal;
}
