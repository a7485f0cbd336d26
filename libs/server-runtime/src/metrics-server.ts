import type { Logger } from '@ephemeral/logging';
import { MetricsHttpServer, type MetricsSource } from '@ephemeral/metrics';

/**
 * GET /metrics on METRICS_HOST:METRICS_PORT: its own port, never the
 * service's (the gateway's PORT is published to the internet, and nobody
 * outside should read its error rates and capacity). Started before the
 * service's port, so a ready process is always scrapable. A port that cannot
 * be bound is logged, not fatal: the service keeps serving without metrics,
 * and Prometheus shows the target down (up == 0), which is what alerts.
 * Resolves with the listening server (close it last at shutdown, so the
 * drain stays observable), or null.
 */
export async function startMetricsServer(
  source: MetricsSource,
  address: { readonly host: string; readonly port: number },
  logger: Logger,
): Promise<MetricsHttpServer | null> {
  const server = new MetricsHttpServer(source, {
    host: address.host,
    port: address.port,
    onScrapeError: (error) => logger.error({ err: error }, 'metrics scrape failed'),
  });
  try {
    const port = await server.listen();
    logger.info({ host: address.host, port }, 'metrics listening');
    return server;
  } catch (error) {
    logger.error(
      { err: error, host: address.host, port: address.port },
      'metrics server could not listen: serving without /metrics',
    );
    return null;
  }
}
