import { createLogger } from '@ephemeral/logging';
import { runServer } from '@ephemeral/server-runtime';

import { bootstrapGateway } from './bootstrap-gateway';
import { loadGatewayConfig } from './config/gateway-config';
import { withGatewayRedaction } from './lifecycle/gateway-log-redaction';

// Config errors exit 2, crashes 1; SIGTERM/SIGINT drain the gateway, and a
// drain still running after DRAIN_TIMEOUT_MS exits 1 (runServer).
void runServer({
  service: 'gateway',
  loadConfig: () => loadGatewayConfig(),
  createLogger: (config) =>
    withGatewayRedaction(
      createLogger({ service: 'gateway', instance: config.gatewayId, level: config.logLevel }),
      { gatewayId: config.gatewayId },
    ),
  start: bootstrapGateway,
  // Long enough to tell every client to reconnect and let the sockets close;
  // past it the orchestrator's patience runs out anyway.
  shutdownDeadline: (config) => ({ ms: config.drainTimeoutMs, description: 'DRAIN_TIMEOUT_MS' }),
});
