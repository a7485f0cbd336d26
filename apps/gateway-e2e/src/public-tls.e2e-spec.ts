import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ClientFrame, isPeerId, ServerFrame } from '@ephemeral/protocol';
import { eventually, freePort, GatewayStack, TerminalCommand } from '@ephemeral/testing';
import { WebSocket } from 'ws';

const PUBLIC_URL = 'https://192.0.2.10:8443';

/** The README's one-liner ("Share with your phone"), for 127.0.0.1 instead of a LAN address. */
function makeLocalCertificate(dir: string): { certFile: string; keyFile: string } {
  const certFile = join(dir, 'local.crt');
  const keyFile = join(dir, 'local.key');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '30',
      '-subj',
      '/CN=ephemeral-share',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile };
}

function httpsGet(url: string, ca?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    }).on('error', reject);
  });
}

describe('the gateway over HTTPS and WSS on one port (TLS_CERT_FILE, TLS_KEY_FILE, PUBLIC_URL)', () => {
  let dir: string;
  let ca: Buffer;
  let stack: GatewayStack;
  let origin: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gateway-public-tls-'));
    const { certFile, keyFile } = makeLocalCertificate(dir);
    ca = readFileSync(certFile);
    stack = await GatewayStack.start({
      gatewayEnv: { TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile, PUBLIC_URL },
    });
    origin = `https://127.0.0.1:${stack.gatewayPort}`;
  });

  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the app over HTTPS with the certificate, and tells the page PUBLIC_URL for its links', async () => {
    for (const path of ['/', '/s/00000000-0000-4000-8000-000000000001']) {
      const { status, body } = await httpsGet(`${origin}${path}`, ca);
      expect(status).toBe(200);
      expect(body).toContain(`<meta name="es-public-url" content="${PUBLIC_URL}" />`);
    }
    // The probes answer over TLS too.
    expect((await httpsGet(`${origin}/healthz`, ca)).status).toBe(200);
  });

  it('is really TLS with that certificate: a client that does not trust it is refused', async () => {
    await expect(httpsGet(`${origin}/`)).rejects.toThrow(/self[- ]signed|certificate/i);
  });

  it('speaks the signaling protocol over WSS on the same port', async () => {
    const socket = new WebSocket(`wss://127.0.0.1:${stack.gatewayPort}/ws`, { ca });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      });
      const welcome = new Promise<ServerFrame>((resolve, reject) => {
        socket.once('message', (data: Buffer) => resolve(ServerFrame.decode(new Uint8Array(data))));
        socket.once('error', reject);
      });
      socket.send(
        ClientFrame.encode(
          ClientFrame.fromPartial({
            seq: 1,
            kind: { $case: 'hello', value: { clientVersion: 'public-tls-e2e' } },
          }),
        ).finish(),
      );
      const frame = await welcome;
      expect(frame.kind?.$case).toBe('welcome');
      if (frame.kind?.$case === 'welcome') expect(isPeerId(frame.kind.value.peerId)).toBe(true);
    } finally {
      socket.close();
    }
  });

  it('npm start honours HOST, PORT, TLS_CERT_FILE, TLS_KEY_FILE and PUBLIC_URL, and says where the app is', async () => {
    const port = await freePort();
    const app = await TerminalCommand.start({
      command: ['npm', 'start', '--silent'],
      env: {
        SKIP_BUILD: '1',
        HOST: '127.0.0.1',
        PORT: String(port),
        TLS_CERT_FILE: join(dir, 'local.crt'),
        TLS_KEY_FILE: join(dir, 'local.key'),
        PUBLIC_URL,
        PRESENCE_PORT: String(await freePort()),
        PRESENCE_METRICS_PORT: '0',
        GATEWAY_METRICS_PORT: '0',
        LOG_LEVEL: 'info',
      },
      readyWhen: /"msg":"gateway listening"/,
      readyTimeoutMs: 60_000,
    });
    try {
      expect(app.text).toContain(
        `Ephemeral Share: https://127.0.0.1:${port}, links use ${PUBLIC_URL}`,
      );
      const page = await eventually(
        async () => {
          const answer = await httpsGet(`https://127.0.0.1:${port}/`, ca);
          expect(answer.status).toBe(200);
          return answer;
        },
        { timeoutMs: 10_000, intervalMs: 200, description: 'GET / over HTTPS answers 200' },
      );
      expect(page.body).toContain(`<meta name="es-public-url" content="${PUBLIC_URL}" />`);
    } finally {
      await app.stop();
    }
  }, 90_000);
});
