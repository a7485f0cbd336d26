import { HealthImplementation } from 'grpc-health-check';
import { PresenceServiceService } from '@ephemeral/protocol/presence';

/** Fully qualified name, as health checks and reflection spell it. */
export const PRESENCE_SERVICE_NAME = PresenceServiceService.register.path.split('/')[1];

/**
 * The standard grpc.health.v1 service. "" is the whole server (what a
 * Kubernetes gRPC probe asks without a service name).
 */
export class PresenceHealth {
  readonly implementation = new HealthImplementation({
    '': 'SERVING',
    [PRESENCE_SERVICE_NAME]: 'SERVING',
  });

  markNotServing(): void {
    this.implementation.setStatus('', 'NOT_SERVING');
    this.implementation.setStatus(PRESENCE_SERVICE_NAME, 'NOT_SERVING');
  }
}
