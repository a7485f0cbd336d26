import type { CallOptions, ClientUnaryCall, Metadata, ServiceError } from '@grpc/grpc-js';
import { Metadata as GrpcMetadata } from '@grpc/grpc-js';

type UnaryMethod<Request, Response> = (
  request: Request,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Response) => void,
) => ClientUnaryCall;

// 5 s: far above any healthy loopback call, far below the 30 s test timeout,
// so a hung server fails the one test instead of the whole suite.
const DEFAULT_DEADLINE_MS = 5_000;

/** A generated client's unary method as a promise, always with a deadline. */
export function unaryCall<Request, Response>(
  method: UnaryMethod<Request, Response>,
  request: Request,
  options: Partial<CallOptions> = {},
): Promise<Response> {
  return new Promise((resolveCall, reject) => {
    method(
      request,
      new GrpcMetadata(),
      { deadline: Date.now() + DEFAULT_DEADLINE_MS, ...options },
      (error, response) => (error ? reject(error) : resolveCall(response)),
    );
  });
}
