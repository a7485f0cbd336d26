import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CloseCode, ErrorCode } from '@ephemeral/protocol';

import { GatewayStack, SignalingClient } from '@ephemeral/testing';

const INDEX_HTML = '<!doctype html><title>Ephemeral Share</title><app-root></app-root>';

describe('gateway HTTP: probes and the web app', () => {
  let stack: GatewayStack;
  let webRoot: string;

  beforeAll(async () => {
    webRoot = mkdtempSync(join(tmpdir(), 'gateway-web-'));
    writeFileSync(join(webRoot, 'index.html'), INDEX_HTML);
    writeFileSync(join(webRoot, 'main-ABC123.js'), 'console.log("app");');
    // The test client stands in for an ingress controller (X-Forwarded-*).
    stack = await GatewayStack.start({
      gatewayEnv: { WEB_ROOT: webRoot, TRUSTED_PROXIES: '127.0.0.1' },
    });
  });

  afterAll(async () => {
    await stack?.stop();
    rmSync(webRoot, { recursive: true, force: true });
  });

  it('an unknown address asked for as a page gets the app (status 404); others keep JSON', async () => {
    const page = await fetch(`${stack.httpUrl}/no/such/page`, {
      headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' },
    });
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toBe(INDEX_HTML);
    const api = await fetch(`${stack.httpUrl}/no/such/page`, { headers: { accept: '*/*' } });
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ statusCode: 404 });
  });

  it('GET /healthz is 200 while the process runs', async () => {
    const response = await fetch(`${stack.httpUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz is 200 when presence serves and the bus is ready', async () => {
    const response = await fetch(`${stack.httpUrl}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ready' });
  });

  it('serves index.html at / and /s/<peerId>, uncached, with security headers', async () => {
    for (const path of ['/', '/s/0b8f6c6e-3c1e-4b7a-9f55-2f1a2b3c4d5e']) {
      const response = await fetch(`${stack.httpUrl}${path}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(INDEX_HTML);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('serves the app bundles as static files', async () => {
    const response = await fetch(`${stack.httpUrl}/main-ABC123.js`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('console.log');
  });

  it('says the web app is not built (503) when WEB_ROOT has no index.html', async () => {
    rmSync(join(webRoot, 'index.html'));
    const response = await fetch(`${stack.httpUrl}/s/whatever`);
    expect(response.status).toBe(503);
    expect(await response.text()).toContain('not built');
    writeFileSync(join(webRoot, 'index.html'), INDEX_HTML);
  });

  it("limits connect-src to the page's own host (ws and wss), no HSTS over plain HTTP", async () => {
    const response = await fetch(`${stack.httpUrl}/`);
    const csp = response.headers.get('content-security-policy') ?? '';
    const own = `127.0.0.1:${stack.gatewayPort}`;
    expect(csp).toContain(`connect-src 'self' ws://${own} wss://${own};`);
    // No bare scheme source: a WebSocket to any other host is blocked.
    expect(csp).not.toMatch(/connect-src[^;]*\swss?:(?:\s|;)/);
    expect(response.headers.get('strict-transport-security')).toBeNull();
  });

  it('sends HSTS when the trusted proxy says the client came over https, for the host it forwards', async () => {
    for (const path of ['/', '/main-ABC123.js', '/healthz']) {
      const response = await fetch(`${stack.httpUrl}${path}`, {
        headers: { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'share.example.com' },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('strict-transport-security')).toBe(
        'max-age=31536000; includeSubDomains',
      );
      expect(response.headers.get('content-security-policy')).toContain(
        "connect-src 'self' ws://share.example.com wss://share.example.com;",
      );
    }
    const plain = await fetch(`${stack.httpUrl}/`, { headers: { 'X-Forwarded-Proto': 'http' } });
    expect(plain.headers.get('strict-transport-security')).toBeNull();
  });

  it('believes no X-Forwarded-Proto or -Host without TRUSTED_PROXIES', async () => {
    const { gateway, port } = await GatewayStack.startGateway(stack.presencePort, {
      WEB_ROOT: webRoot,
    });
    try {
      const response = await fetch(`http://127.0.0.1:${port}/`, {
        headers: { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'evil.example' },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('strict-transport-security')).toBeNull();
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${port} wss://127.0.0.1:${port};`);
      expect(csp).not.toContain('evil.example');
    } finally {
      await gateway.stop();
    }
  });

  it('when presence is gone: /readyz 503 with a reason, hello answered UNAVAILABLE and closed LEASE_LOST', async () => {
    await stack.presence.kill9();
    const response = await fetch(`${stack.httpUrl}/readyz`);
    expect(response.status).toBe(503);
    const body = (await response.json()) as { reasons: string[] };
    expect(body.reasons.join(' ')).toContain('presence');

    const client = await SignalingClient.connect(stack.wsUrl);
    client.send({
      seq: 3,
      kind: { $case: 'hello', value: { resumePeerId: '', resumeToken: '', clientVersion: '' } },
    });
    expect(await client.next('error')).toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAVAILABLE,
      seq: 3,
    });
    expect((await client.closed).code).toBe(CloseCode.LEASE_LOST);

    // The gateway itself is still alive.
    expect((await fetch(`${stack.httpUrl}/healthz`)).status).toBe(200);
  });
});
