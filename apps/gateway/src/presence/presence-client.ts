import type {
  BatchLookupResponse,
  KeepAliveRequest,
  KeepAliveResponse,
  Lease,
  ListBySubjectResponse,
  RegisterRequest,
  RegisterResponse,
  RevokeRequest,
  RevokeResponse,
} from '@ephemeral/protocol/presence';

/** Why a presence call failed, in the gateway's terms (not gRPC status codes). */
export type PresenceFailure =
  | 'not-found'
  | 'already-exists'
  | 'permission-denied'
  | 'failed-precondition'
  | 'invalid-argument'
  | 'unavailable'
  | 'other';

export class PresenceCallError extends Error {
  override readonly name = 'PresenceCallError';
  constructor(
    readonly failure: PresenceFailure,
    message: string,
    /** The gRPC status name (`UNAVAILABLE`, `DEADLINE_EXCEEDED`…) when the call got one. */
    readonly grpcCode?: string,
  ) {
    super(message);
  }
}

/** One registration's answer in a batch: granted, or refused as Register would refuse it. */
export type RegisterBatchOutcome = RegisterResponse | PresenceCallError;

/**
 * The presence calls the gateway makes, with generated request/response
 * types. Calls reject with PresenceCallError. The gRPC implementation is
 * GrpcPresenceClient; unit specs use a fake.
 */
export interface PresenceClient {
  register(request: RegisterRequest): Promise<RegisterResponse>;
  /**
   * Many registrations in one call (RegisterBatch): outcome `i` is what
   * `register(requests[i])` would have resolved with, or the
   * PresenceCallError it would have rejected with. Rejects only when the
   * call itself fails.
   */
  registerBatch(requests: RegisterRequest[]): Promise<RegisterBatchOutcome[]>;
  keepAlive(request: KeepAliveRequest): Promise<KeepAliveResponse>;
  revoke(request: RevokeRequest): Promise<RevokeResponse>;
  /** The live lease of `peerId`, or undefined when it is not online. */
  lookup(peerId: string): Promise<Lease | undefined>;
  batchLookup(peerIds: string[]): Promise<BatchLookupResponse>;
  /** The live leases a signed-in person holds, on every gateway (ADR 0029). */
  listBySubject(subject: string): Promise<ListBySubjectResponse>;
  /** True when presence answers its gRPC health check with SERVING. */
  isServing(): Promise<boolean>;
  close(): void;
}
