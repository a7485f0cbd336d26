import { createLogger } from '@ephemeral/logging';
import {
  loadPresenceConfig,
  type PresenceConfig,
  PresenceConfigError,
} from './config/presence-config';
import { createPresenceServer } from './presence-server';

function loadConfigOrExit(): PresenceConfig {
  try {
    return loadPresenceConfig();
  } catch (error) {
    if (!(error instanceof PresenceConfigError)) throw error;
    // pino writes synchronously to stdout, so the line is out before exit.
    createLogger({ service: 'presence', instance: 'boot' }).fatal(error.message);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({
    service: 'presence',
    instance: config.instanceId,
    level: config.logLevel,
  });

  // Handlers catch their own errors; these are the last line of defence so a
  // stray error in a callback is logged instead of taking every peer offline.
  process.on('uncaughtException', (error) => logger.error({ err: error }, 'uncaught exception'));
  process.on('unhandledRejection', (reason) =>
    logger.error({ err: reason }, 'unhandled rejection'),
  );

  const server = createPresenceServer(config, { logger });
  const port = await server.listen();
  logger.info(
    {
      host: config.host,
      port,
      leaseStore: config.leaseStore,
      leaseTtl: config.leaseTtl,
      reaperIntervalMs: config.reaperIntervalMs,
    },
    'presence listening',
  );

  const stop = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'presence received shutdown signal');
    server
      .shutdown()
      .then(() => {
        logger.info('presence stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'presence shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  createLogger({ service: 'presence', instance: 'boot' }).fatal(
    { err: error },
    'presence failed to start',
  );
  process.exit(1);
});
