import { status } from '@grpc/grpc-js';
import { PermissionDeniedError } from '../access/lease-access-policy';
import {
  LeaseStoreError,
  LeaseStoreErrorReason,
  LeaseStoreUnavailableError,
} from '../lease/lease-store-error';
import { InvalidArgumentError } from './presence-request-validation';

export interface GrpcErrorStatus {
  readonly code: status;
  readonly details: string;
  /** Fields for the structured log line (never secrets). */
  readonly logFields: Record<string, string>;
}

const STATUS_FOR_LEASE_ERROR: Record<LeaseStoreErrorReason, status> = {
  [LeaseStoreErrorReason.ALREADY_EXISTS]: status.ALREADY_EXISTS,
  [LeaseStoreErrorReason.NOT_FOUND]: status.NOT_FOUND,
  [LeaseStoreErrorReason.RESUME_TOKEN_MISMATCH]: status.PERMISSION_DENIED,
  [LeaseStoreErrorReason.FENCED]: status.FAILED_PRECONDITION,
};

/**
 * The status a client gets for an error. Expected refusals keep their message;
 * anything else is INTERNAL with a generic message, so internals never leak
 * to clients (the log line has the detail).
 */
export function grpcErrorStatus(error: unknown): GrpcErrorStatus {
  if (error instanceof InvalidArgumentError) {
    return {
      code: status.INVALID_ARGUMENT,
      details: error.message,
      logFields: { field: error.field },
    };
  }
  if (error instanceof PermissionDeniedError) {
    return { code: status.PERMISSION_DENIED, details: error.message, logFields: error.logFields };
  }
  if (error instanceof LeaseStoreError) {
    return {
      code: STATUS_FOR_LEASE_ERROR[error.reason],
      details: error.message,
      logFields: { reason: error.reason, peerId: error.peerId },
    };
  }
  if (error instanceof LeaseStoreUnavailableError) {
    // Transient (Redis down or busy): clients retry with backoff. The cause
    // stays in the log line, not in the answer.
    return {
      code: status.UNAVAILABLE,
      details: 'the lease store is unavailable; retry later',
      logFields: { cause: error.message },
    };
  }
  return { code: status.INTERNAL, details: 'internal error', logFields: {} };
}
