import 'reflect-metadata';

import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';

import type { Logger } from '@ephemeral/logging';
import { MetricsRegistry } from '@ephemeral/metrics';
import { startMetricsServer } from '@ephemeral/server-runtime';

import type { GatewayConfig } from './config/gateway-config';
import { readPublicTls, reloadPublicTlsOnChange } from './config/public-tls';
import { GatewayModule } from './gateway.module';
import { TrustedProxies } from './http/client-address';
import { HtmlNotFoundFilter } from './http/html-not-found.filter';
import { securityHeaders } from './http/security-headers';
import { GatewayLifecycle } from './lifecycle/gateway-lifecycle.service';
import { NestPinoLogger } from './lifecycle/nest-pino-logger';
import { GatewayMetrics } from './metrics/gateway-metrics';
import { GatewayWsAdapter } from './signaling/gateway-ws-adapter';

export interface RunningGateway {
  app: NestExpressApplication;
  /** The port actually bound (PORT=0 picks a free one). */
  port: number;
  /** The /metrics port actually bound (METRICS_PORT=0 picks one); null if it could not bind. */
  metricsPort: number | null;
  metrics: GatewayMetrics;
  /** Drain clients (Reconnect, then GOING_AWAY), then stop everything. Leases are kept. */
  shutdown(): Promise<void>;
}

/**
 * Builds and starts the gateway: HTTP (probes, web app) and the WebSocket
 * endpoint on one port, /metrics on another. Used by main.ts and by
 * benchmarks in-process.
 */
export async function bootstrapGateway(
  config: GatewayConfig,
  logger: Logger,
): Promise<RunningGateway> {
  const registry = new MetricsRegistry();
  const metrics = new GatewayMetrics(registry);
  const app = await NestFactory.create<NestExpressApplication>(
    GatewayModule.forRoot(config, logger, metrics),
    {
      logger: new NestPinoLogger(logger),
      abortOnError: false,
      // TLS_CERT_FILE/TLS_KEY_FILE: HTTPS, and so WSS, on the one port.
      ...(config.tls ? { httpsOptions: readPublicTls(config.tls) } : {}),
    },
  );
  app.disable('x-powered-by');
  // With sign-in on, the page talks to the issuer too (discovery, tokens).
  const issuerOrigins =
    config.auth.mode === 'oidc' ? [new URL(config.auth.oidc.issuer).origin] : [];
  app.use(securityHeaders(app.get(TrustedProxies), issuerOrigins));
  // Hashed bundles and assets; index.html goes through WebAppController
  // (index: false) so it is never cached and the SPA routes share it.
  app.useStaticAssets(config.webRoot, { index: false, fallthrough: true, maxAge: '1h' });
  app.useGlobalFilters(new HtmlNotFoundFilter(config.webRoot));
  app.useWebSocketAdapter(new GatewayWsAdapter(app, config, logger));
  // Before the public port, so a ready gateway is always scrapable.
  const metricsServer = await startMetricsServer(registry, config.metrics, logger);
  try {
    await app.listen(config.port, config.host);
  } catch (error) {
    await metricsServer?.close();
    throw error;
  }
  const port = (app.getHttpServer().address() as AddressInfo).port;
  const stopTlsReload = config.tls
    ? reloadPublicTlsOnChange(app.getHttpServer() as HttpsServer, config.tls, logger)
    : () => undefined;
  logger.info(
    {
      port,
      host: config.host,
      tls: config.tls !== null,
      publicUrl: config.publicUrl,
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
    metricsPort: metricsServer?.port ?? null,
    metrics,
    shutdown: () => {
      stopping ??= (async () => {
        stopTlsReload();
        await app.get(GatewayLifecycle).drain();
        await app.close();
        // Last: the drain and the disconnects stay observable to the end.
        await metricsServer?.close();
      })();
      return stopping;
    },
  };
}
