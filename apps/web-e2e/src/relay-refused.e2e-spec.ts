import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, workspaceRoot } from '@ephemeral/testing';
import {
  BrowserPeer,
  BrowserPeers,
  shareFiles,
  waitForReceiveState,
} from '@ephemeral/browser-testing';
import { shareSuite } from './share-suite';

const run = promisify(execFile);

/**
 * The receiver may use relay candidates only, as on a network where only
 * the TURN server is reachable: whether it connects is up to the relay.
 */
const RELAY_ONLY = `(() => {
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(config = {}) {
      super({ ...config, iceTransportPolicy: 'relay' });
    }
  };
})();`;

/** A real coturn on loopback (tools/coturn/coturn.sh: the config k8s/ ships) for this file. */
class Coturn {
  private constructor(
    readonly port: number,
    readonly secret: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly dir: string,
  ) {}

  static async start(): Promise<Coturn> {
    const dir = mkdtempSync(join(tmpdir(), 'web-e2e-coturn-'));
    const secret = randomBytes(24).toString('hex');
    writeFileSync(join(dir, 'turn-secret'), `${secret}\n`, { mode: 0o600 });
    const port = await freePort();
    let tlsPort = await freePort();
    while (tlsPort === port) tlsPort = await freePort();
    const env = {
      ...process.env,
      COTURN_DIR: dir,
      COTURN_PORT: String(port),
      COTURN_TLS_PORT: String(tlsPort),
      COTURN_SECRET_FILE: join(dir, 'turn-secret'),
    };
    const coturn = new Coturn(port, secret, env, dir);
    await coturn.script('install');
    await coturn.script('start');
    return coturn;
  }

  async stop(): Promise<void> {
    await this.script('stop').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async script(command: string): Promise<void> {
    await run('bash', [join(workspaceRoot, 'tools/coturn/coturn.sh'), command], {
      env: this.env,
      timeout: 120_000,
    });
  }
}

describe('a receiver that must relay, through a real coturn', () => {
  let coturn: Coturn | undefined;
  beforeAll(async () => {
    coturn = await Coturn.start();
  }, 180_000);
  afterAll(() => coturn?.stop());

  const turnUrls = () => `turn:127.0.0.1:${coturn!.port}?transport=udp`;

  async function openRelayOnly(
    browsers: BrowserPeers,
    name: string,
    link: string,
  ): Promise<BrowserPeer> {
    const receiver = await browsers.launch(name);
    await receiver.page.addInitScript(RELAY_ONLY);
    await receiver.page.goto(link);
    return receiver;
  }

  describe('with the gateway holding the relay secret', () => {
    const s = shareSuite(() => ({ TURN_SECRET: coturn!.secret, TURN_URLS: turnUrls() }));

    it('connects over the relay, and the page says so: relay-udp with a round trip', async () => {
      const sender = await s.browsers.launch('tx-relay-ok');
      const link = await shareFiles(sender.page, s.stack.origin, [
        s.files.createText('relay/ok.txt', 'through the relay'),
      ]);
      const receiver = await openRelayOnly(s.browsers, 'rx-relay-ok', link);
      await waitForReceiveState(receiver.page, 'ready', 45_000);
      await receiver.page
        .locator('[data-testid=connection-path][data-path=relay-udp][data-rtt-ms]')
        .waitFor({ timeout: 20_000 });
    });
  });

  describe('with a gateway whose relay secret is wrong', () => {
    const s = shareSuite(() => ({
      TURN_SECRET: randomBytes(24).toString('hex'),
      TURN_URLS: turnUrls(),
    }));

    it("says the server's relay refused the connection, not the user's network, within the deadline", async () => {
      const sender = await s.browsers.launch('tx-relay-refused');
      const link = await shareFiles(sender.page, s.stack.origin, [
        s.files.createText('relay/refused.txt', 'never sent'),
      ]);
      const receiver = await openRelayOnly(s.browsers, 'rx-relay-refused', link);
      await waitForReceiveState(receiver.page, 'connection-failed', 60_000);
      const failure = receiver.page.locator('[data-testid=connect-failure]');
      expect(await failure.getAttribute('data-failure-cause')).toBe('relay-refused');
      expect(await failure.textContent()).toContain("server's relay refused the connection");
    });
  });
});
