/** Why a lease operation was refused; the gRPC layer maps each to a status code. */
export enum LeaseStoreErrorReason {
  /** NEW for an ID that holds a live or resumable lease. */
  ALREADY_EXISTS = 'ALREADY_EXISTS',
  /** No live (or, for RESUME, resumable) lease for the ID. */
  NOT_FOUND = 'NOT_FOUND',
  /** RESUME with a resume token hash that does not match. */
  RESUME_TOKEN_MISMATCH = 'RESUME_TOKEN_MISMATCH',
  /** The caller's fencing token is not the current one: someone else holds the ID. */
  FENCED = 'FENCED',
}

export class LeaseStoreError extends Error {
  override readonly name = 'LeaseStoreError';

  constructor(
    readonly reason: LeaseStoreErrorReason,
    readonly peerId: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The store could not be reached or refused to work for now (Redis down,
 * loading, out of memory, a command timed out). Not the caller's fault and
 * not a bug: the gRPC layer answers UNAVAILABLE so clients retry with backoff.
 * A write that timed out may still have been applied.
 */
export class LeaseStoreUnavailableError extends Error {
  override readonly name = 'LeaseStoreUnavailableError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
