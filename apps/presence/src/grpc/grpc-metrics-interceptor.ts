import { type ServerInterceptor, ServerInterceptingCall, status } from '@grpc/grpc-js';
import type { PresenceMetrics } from '../metrics/presence-metrics';

const NS_PER_SECOND = 1e9;

/**
 * Counts and times every call the server handles (PresenceService, health,
 * reflection) in one place, whatever its handler does: a server interceptor
 * sees the status each call ends with, including those grpc-js sends itself
 * (a request that fails to decode). grpc-js answers unknown methods
 * UNIMPLEMENTED before interceptors run, so label values stay the server's
 * own service and method names: no client can grow the series.
 *
 * Streams (Watch) are counted when they end, with the status they end with
 * (CANCELLED when the client goes away); only unary calls are timed, since a
 * stream's lifetime is not a latency.
 */
export function grpcMetricsInterceptor(metrics: PresenceMetrics): ServerInterceptor {
  return (methodDescriptor, call) => {
    // "/ephemeral.presence.v1.PresenceService/Register"
    const [, grpcService = 'unknown', method = 'unknown'] = methodDescriptor.path.split('/');
    const timed = !methodDescriptor.requestStream && !methodDescriptor.responseStream;
    const started = process.hrtime.bigint();
    let recorded = false;
    const record = (code: status) => {
      if (recorded) return;
      recorded = true;
      metrics.grpcRequests.inc({
        grpc_service: grpcService,
        method,
        code: status[code] ?? String(code),
      });
      if (timed) {
        const seconds = Number(process.hrtime.bigint() - started) / NS_PER_SECOND;
        metrics.grpcRequestDuration.observe({ grpc_service: grpcService, method }, seconds);
      }
    };
    return new ServerInterceptingCall(call, {
      start: (next) => next({ onCancel: () => record(status.CANCELLED) }),
      sendStatus: (statusObject, next) => {
        record(statusObject.code);
        next(statusObject);
      },
    });
  };
}
