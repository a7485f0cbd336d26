import {
  eventually,
  freePort,
  SignalingClient,
  signals,
  TerminalCommand,
} from '@ephemeral/testing';

/**
 * The README's first command: `npm start` runs presence and the gateway on
 * the embedded default (no Kafka, no Redis), the gateway serving the web
 * app. Run exactly as a user does, except the ports (free ones) and the
 * build (CI built dist/ already: SKIP_BUILD=1).
 */
describe('npm start (the embedded default)', () => {
  let app: TerminalCommand | undefined;

  afterAll(async () => {
    await app?.stop();
  });

  it('serves the web app and relays signals with no Kafka or Redis, and Ctrl-C stops both processes', async () => {
    const port = await freePort();
    app = await TerminalCommand.start({
      command: ['npm', 'start', '--silent'],
      env: {
        SKIP_BUILD: '1',
        PORT: String(port),
        PRESENCE_PORT: String(await freePort()),
        PRESENCE_METRICS_PORT: '0',
        GATEWAY_METRICS_PORT: '0',
        LOG_LEVEL: 'info',
      },
      readyWhen: /"msg":"gateway listening"/,
      readyTimeoutMs: 60_000,
    });
    expect(app.text).toContain(`Ephemeral Share: http://127.0.0.1:${port}`);

    // The script starts both processes at once: the gateway may listen a
    // moment before its presence channel is up.
    await eventually(
      async () => expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200),
      { timeoutMs: 10_000, intervalMs: 200, description: 'GET /readyz answers 200' },
    );
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<es-root>');

    const a = await SignalingClient.connectAndHello(`ws://127.0.0.1:${port}/ws`);
    const b = await SignalingClient.connectAndHello(`ws://127.0.0.1:${port}/ws`);
    a.signal(b.peerId, signals.offer());
    expect(await b.next('signal')).toMatchObject({ from: a.peerId, to: b.peerId });
    await Promise.all([a.close(), b.close()]);

    await app.ctrlC();
    expect(app.logMessages()).toEqual(
      expect.arrayContaining(['presence stopped', 'gateway stopped']),
    );
    await expect(fetch(`http://127.0.0.1:${port}/readyz`)).rejects.toThrow();
    app = undefined;
  }, 90_000);
});
