import { Agent, request } from 'node:http';
import { MetricsHttpServer, type MetricsSource } from './metrics-http-server';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function call(port: number, path: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolveCall, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () =>
        resolveCall({ status: response.statusCode ?? 0, headers: response.headers, body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('MetricsHttpServer', () => {
  const source: MetricsSource & { fail: boolean } = {
    fail: false,
    contentType: 'text/plain; version=0.0.4; charset=utf-8',
    async metrics() {
      if (this.fail) throw new Error('collect failed');
      return 'ephemeral_up 1\n';
    },
  };
  const scrapeErrors: unknown[] = [];
  let server: MetricsHttpServer;
  let port: number;

  beforeAll(async () => {
    server = new MetricsHttpServer(source, {
      host: '127.0.0.1',
      port: 0,
      onScrapeError: (error) => scrapeErrors.push(error),
    });
    port = await server.listen();
  });

  afterAll(() => server.close());

  afterEach(() => {
    source.fail = false;
  });

  it('serves GET /metrics with the exposition content type', async () => {
    expect(port).toBeGreaterThan(0);
    expect(server.port).toBe(port);
    const answer = await call(port, '/metrics?ignored=1');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.body).toBe('ephemeral_up 1\n');
  });

  it('answers HEAD without a body', async () => {
    const answer = await call(port, '/metrics', 'HEAD');
    expect(answer).toMatchObject({ status: 200, body: '' });
  });

  it('answers 404 elsewhere and 405 for other methods', async () => {
    expect((await call(port, '/')).status).toBe(404);
    expect((await call(port, '/metrics/x')).status).toBe(404);
    const post = await call(port, '/metrics', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('answers 500 and reports the error when collection fails', async () => {
    source.fail = true;
    const answer = await call(port, '/metrics');
    expect(answer.status).toBe(500);
    expect(answer.body).not.toContain('collect failed');
    expect(scrapeErrors).toHaveLength(1);
  });

  it('rejects listen() when the port is taken, and close() is idempotent', async () => {
    const second = new MetricsHttpServer(source, { host: '127.0.0.1', port });
    await expect(second.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await second.close();
  });

  it('closes with a keep-alive connection open', async () => {
    const other = new MetricsHttpServer(source, { host: '127.0.0.1', port: 0 });
    const otherPort = await other.listen();
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolveCall, reject) => {
      const req = request(
        { host: '127.0.0.1', port: otherPort, path: '/metrics', agent },
        (response) => {
          response.resume();
          response.on('end', () => resolveCall());
        },
      );
      req.on('error', reject);
      req.end();
    });
    // The agent still holds the idle connection: close() must not wait for it.
    await other.close();
    await other.close();
    agent.destroy();
    expect(other.port).toBe(otherPort);
  });
});
