import { freePort, SignalingClient, signals, TerminalCommand } from '@ephemeral/testing';

/**
 * The documented one-command distributed mode (docs/distributed-mode.md):
 * `tools/start-distributed.sh` starts two presence replicas and two gateways
 * on Kafka and Redis, prints where they are, and Ctrl-C stops them all.
 * CI has built dist/ already, so the script skips its build step.
 */
describe('tools/start-distributed.sh (the one-command distributed mode)', () => {
  let script: TerminalCommand | undefined;

  afterAll(async () => {
    await script?.stop();
  });

  it('starts 2 presence replicas and 2 gateways, prints their addresses, shares across gateways, and stops everything on Ctrl-C', async () => {
    const gatewayPorts = [await freePort(), await freePort()];
    const presencePorts = [await freePort(), await freePort()];
    script = await TerminalCommand.start({
      command: ['bash', 'tools/start-distributed.sh'],
      env: {
        SKIP_BUILD: '1',
        GATEWAY_PORTS: gatewayPorts.join(' '),
        PRESENCE_PORTS: presencePorts.join(' '),
        METRICS_PORT_BASE: '0',
        LOG_LEVEL: 'info',
      },
      readyWhen: /distributed mode \(Ctrl-C stops the apps\)/,
      readyTimeoutMs: 90_000,
    });

    // The banner names every address it started.
    for (const port of [...gatewayPorts, ...presencePorts])
      expect(script.text).toContain(`:${port}`);

    for (const port of gatewayPorts) {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(await page.text()).toContain('<es-root>');
    }

    // A peer on gateway 1 reaches a peer on gateway 2 (through Kafka).
    const a = await SignalingClient.connectAndHello(`ws://127.0.0.1:${gatewayPorts[0]}/ws`);
    const b = await SignalingClient.connectAndHello(`ws://127.0.0.1:${gatewayPorts[1]}/ws`);
    a.signal(b.peerId, signals.offer('v=0\r\nstart-distributed\r\n'));
    expect(await b.next('signal')).toMatchObject({ from: a.peerId, to: b.peerId });
    b.signal(a.peerId, signals.answer());
    expect(await a.next('signal')).toMatchObject({ from: b.peerId, to: a.peerId });
    await Promise.all([a.close(), b.close()]);

    await script.ctrlC();
    expect(script.text).toContain('stopping gateways and presence replicas');
    const messages = script.logMessages();
    expect(messages.filter((m) => m === 'presence stopped')).toHaveLength(2);
    expect(messages.filter((m) => m === 'gateway stopped')).toHaveLength(2);
    for (const port of gatewayPorts) {
      await expect(fetch(`http://127.0.0.1:${port}/readyz`)).rejects.toThrow();
    }
    script = undefined;
  }, 180_000);
});
