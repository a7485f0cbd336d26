import 'reflect-metadata';

import type { AddressInfo } from 'node:net';

import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';

import type { Logger } from '@ephemeral/logging';

import type { GatewayConfig } from './config/gateway-config';
import { GatewayModule } from './gateway.module';
import { securityHeaders } from './http/security-headers';
import { GatewayLifecycle } from './lifecycle/gateway-lifecycle.service';
import { NestPinoLogger } from './lifecycle/nest-pino-logger';
import { GatewayWsAdapter } from './signaling/gateway-ws-adapter';

export interface RunningGateway {
  app: NestExpressApplication;
  /** The port actually bound (PORT=0 picks a free one). */
  port: number;
  /** Drain clients (Reconnect, then GOING_AWAY), then stop everything. Leases are kept. */
  shutdown(): Promise<void>;
}

/**
 * Builds and starts the gateway: HTTP (probes, web app) and the WebSocket
 * endpoint on one port. Used by main.ts and by benchmarks in-process.
 */
export async function bootstrapGateway(
  config: GatewayConfig,
  logger: Logger,
): Promise<RunningGateway> {
  const app = await NestFactory.create<NestExpressApplication>(
    GatewayModule.forRoot(config, logger),
    {
      logger: new NestPinoLogger(logger),
      abortOnError: false,
    },
  );
  app.disable('x-powered-by');
  app.use(securityHeaders);
  // Hashed bundles and assets; index.html goes through WebAppController
  // (index: false) so it is never cached and the SPA routes share it.
  app.useStaticAssets(config.webRoot, { index: false, fallthrough: true, maxAge: '1h' });
  app.useWebSocketAdapter(new GatewayWsAdapter(app, config, logger));
  await app.listen(config.port, config.host);
  const port = (app.getHttpServer().address() as AddressInfo).port;
  logger.info(
    {
      port,
      host: config.host,
      wsPath: config.wsPath,
      presenceUrl: config.presenceUrl,
      signalBus: config.signalBus,
    },
    'gateway listening',
  );
  let stopping: Promise<void> | undefined;
  return {
    app,
    port,
    shutdown: () => {
      stopping ??= (async () => {
        await app.get(GatewayLifecycle).drain();
        await app.close();
      })();
      return stopping;
    },
  };
}
