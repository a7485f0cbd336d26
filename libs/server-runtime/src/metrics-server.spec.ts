import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import pino from 'pino';

import type { MetricsSource } from '@ephemeral/metrics';

import { startMetricsServer } from './metrics-server';

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

const source: MetricsSource = {
  contentType: 'text/plain; version=0.0.4',
  metrics: async () => 'ephemeral_up 1\n',
};

describe('startMetricsServer', () => {
  let blocker: Server | undefined;

  afterEach(async () => {
    await new Promise<void>((done) => (blocker ? blocker.close(() => done()) : done()));
    blocker = undefined;
  });

  it('serves /metrics on the given port and logs where', async () => {
    const { logger, lines } = capturingLogger();
    const server = await startMetricsServer(source, { host: '127.0.0.1', port: 0 }, logger);
    try {
      expect(server?.port).toBeGreaterThan(0);
      const response = await fetch(`http://127.0.0.1:${server!.port}/metrics`);
      expect(await response.text()).toBe('ephemeral_up 1\n');
      expect(lines).toContainEqual(
        expect.objectContaining({
          msg: 'metrics listening',
          host: '127.0.0.1',
          port: server!.port,
        }),
      );
    } finally {
      await server?.close();
    }
  });

  it('resolves null and logs the error, stack included, when the port is taken', async () => {
    blocker = createServer();
    await new Promise<void>((done) => blocker!.listen(0, '127.0.0.1', done));
    const port = (blocker.address() as AddressInfo).port;
    const { logger, lines } = capturingLogger();

    expect(await startMetricsServer(source, { host: '127.0.0.1', port }, logger)).toBeNull();
    const line = lines.find(
      (l) => l['msg'] === 'metrics server could not listen: serving without /metrics',
    );
    expect(line).toMatchObject({ host: '127.0.0.1', port, err: { code: 'EADDRINUSE' } });
    expect((line!['err'] as { stack: string }).stack).toContain('EADDRINUSE');
  });

  it('logs a failed scrape with the error object', async () => {
    const { logger, lines } = capturingLogger();
    const failing: MetricsSource = {
      contentType: source.contentType,
      metrics: async () => {
        throw new TypeError('collect broke');
      },
    };
    const server = await startMetricsServer(failing, { host: '127.0.0.1', port: 0 }, logger);
    try {
      const response = await fetch(`http://127.0.0.1:${server!.port}/metrics`);
      expect(response.status).toBe(500);
      expect(lines.find((l) => l['msg'] === 'metrics scrape failed')).toMatchObject({
        err: {
          type: 'TypeError',
          message: 'collect broke',
          stack: expect.stringContaining('collect broke'),
        },
      });
    } finally {
      await server?.close();
    }
  });
});
