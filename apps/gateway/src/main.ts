import { createLogger } from '@ephemeral/logging';

import { bootstrapGateway } from './bootstrap-gateway';
import { GatewayConfigError, loadGatewayConfig, type GatewayConfig } from './config/gateway-config';
import { withGatewayRedaction } from './lifecycle/gateway-log-redaction';

function loadConfigOrExit(): GatewayConfig {
  try {
    return loadGatewayConfig();
  } catch (error) {
    if (!(error instanceof GatewayConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = withGatewayRedaction(
    createLogger({ service: 'gateway', instance: config.gatewayId, level: config.logLevel }),
    { gatewayId: config.gatewayId },
  );
  process.on('unhandledRejection', (reason) => {
    logger.error(
      { err: reason instanceof Error ? reason.message : String(reason) },
      'unhandled rejection',
    );
  });
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error.message, stack: error.stack }, 'uncaught exception');
    process.exit(1);
  });

  const gateway = await bootstrapGateway(config, logger);

  const stop = (signal: NodeJS.Signals): void => {
    logger.info({ signal, drainTimeoutMs: config.drainTimeoutMs }, 'shutting down');
    // Backstop: if something hangs, exit non-zero instead of outliving the
    // orchestrator's patience.
    setTimeout(() => {
      logger.error('shutdown did not finish within DRAIN_TIMEOUT_MS');
      process.exit(1);
    }, config.drainTimeoutMs).unref();
    gateway.shutdown().then(
      () => {
        logger.info('gateway stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error(
          { err: error instanceof Error ? error.message : String(error) },
          'shutdown failed',
        );
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `gateway failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
