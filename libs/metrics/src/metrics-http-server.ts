import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the server exposes: a MetricsRegistry, or anything that renders the same way. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface MetricsHttpServerOptions {
  readonly host: string;
  /** 0 = an ephemeral port chosen by the OS; listen() resolves with the bound one. */
  readonly port: number;
  /** A scrape failed (a collect callback threw): the scraper got a 500. */
  readonly onScrapeError?: (error: unknown) => void;
}

export const METRICS_PATH = '/metrics';

/**
 * The Prometheus exposition endpoint on its own port: `GET /metrics` (and
 * HEAD), nothing else. A separate port keeps scrapes off the service's
 * traffic port, lets NetworkPolicies admit only the scraper, and works the
 * same for a gRPC-only process that has no HTTP server of its own.
 */
export class MetricsHttpServer {
  private readonly server: Server;
  private boundPort: number | null = null;

  constructor(
    private readonly source: MetricsSource,
    private readonly options: MetricsHttpServerOptions,
  ) {
    this.server = createServer((request, response) => void this.answer(request, response));
    // A scraper that opens a connection and sends nothing is dropped after 10 s
    // (Prometheus's default scrape timeout) instead of holding a socket.
    this.server.requestTimeout = 10_000;
    this.server.headersTimeout = 10_000;
  }

  /** The bound port, once listening. */
  get port(): number | null {
    return this.boundPort;
  }

  listen(): Promise<number> {
    return new Promise((resolveListen, reject) => {
      const onError = (error: Error) => reject(error);
      this.server.once('error', onError);
      this.server.listen({ host: this.options.host, port: this.options.port }, () => {
        this.server.off('error', onError);
        this.boundPort = (this.server.address() as AddressInfo).port;
        resolveListen(this.boundPort);
      });
    });
  }

  /** Stops listening and closes open (keep-alive) connections. Idempotent. */
  close(): Promise<void> {
    if (!this.server.listening) return Promise.resolve();
    return new Promise((resolveClose) => {
      this.server.close(() => resolveClose());
      // Prometheus keeps its connection open between scrapes; without this,
      // close() would wait for it to time out.
      this.server.closeAllConnections();
    });
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?', 1)[0];
    if (path !== METRICS_PATH) {
      this.reply(response, 404, 'text/plain; charset=utf-8', 'not found\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      this.reply(response, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
      return;
    }
    try {
      const body = await this.source.metrics();
      this.reply(response, 200, this.source.contentType, request.method === 'HEAD' ? '' : body);
    } catch (error) {
      this.options.onScrapeError?.(error);
      this.reply(response, 500, 'text/plain; charset=utf-8', 'metrics collection failed\n');
    }
  }

  private reply(response: ServerResponse, code: number, contentType: string, body: string): void {
    response.writeHead(code, {
      'Content-Type': contentType,
      'Cache-Control': 'no-store',
    });
    response.end(body);
  }
}
