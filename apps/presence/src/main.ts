import { createLogger } from '@ephemeral/logging';
import { runServer } from '@ephemeral/server-runtime';

import { bootstrapPresence, PRESENCE_CLOSE_BUDGET_MS } from './bootstrap-presence';
import { loadPresenceConfig } from './config/presence-config';

// Config errors exit 2, crashes 1; SIGTERM/SIGINT drain the server and close
// Kafka, Redis and /metrics, and a shutdown still running after
// SHUTDOWN_GRACE_MS + PRESENCE_CLOSE_BUDGET_MS exits 1 (runServer).
void runServer({
  service: 'presence',
  loadConfig: () => loadPresenceConfig(),
  createLogger: (config) =>
    createLogger({ service: 'presence', instance: config.instanceId, level: config.logLevel }),
  start: bootstrapPresence,
  shutdownDeadline: (config) => ({
    ms: config.shutdownGraceMs + PRESENCE_CLOSE_BUDGET_MS,
    description: `SHUTDOWN_GRACE_MS + ${PRESENCE_CLOSE_BUDGET_MS} ms`,
  }),
});
