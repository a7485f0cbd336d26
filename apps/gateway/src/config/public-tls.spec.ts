import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { createLogger } from '@ephemeral/logging';

import { withPublicUrl } from '../http/web-app.controller';
import { GatewayConfigError, loadGatewayConfig } from './gateway-config';
import { readPublicTls, reloadPublicTlsOnChange } from './public-tls';

describe('TLS_CERT_FILE / TLS_KEY_FILE and PUBLIC_URL (certificates from make-test-pki.sh)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gateway-public-tls-spec-'));
    const script = resolve(__dirname, '../../../../tools/tls/make-test-pki.sh');
    execFileSync('bash', [script, dir, 'gw-1'], { stdio: 'ignore' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cert = () => join(dir, 'presence.crt');
  const key = () => join(dir, 'presence.key');

  it('serves plain HTTP with links on the page origin by default', () => {
    const config = loadGatewayConfig({});
    expect(config.tls).toBeNull();
    expect(config.publicUrl).toBeNull();
  });

  it('takes a certificate and its key, and PUBLIC_URL as an origin', () => {
    const config = loadGatewayConfig({
      TLS_CERT_FILE: cert(),
      TLS_KEY_FILE: key(),
      PUBLIC_URL: 'https://192.168.1.20:8443/',
    });
    expect(config.tls).toEqual({ certFile: cert(), keyFile: key() });
    expect(config.publicUrl).toBe('https://192.168.1.20:8443');
  });

  it.each([
    [{ TLS_CERT_FILE: 'x.crt' }, /TLS_KEY_FILE: TLS_CERT_FILE and TLS_KEY_FILE are set together/],
    [{ TLS_CERT_FILE: '/nonexistent.crt', TLS_KEY_FILE: '/nonexistent.key' }, /cannot read/],
    [{ PUBLIC_URL: 'https://share.example.com/path' }, /PUBLIC_URL: must be an origin/],
    [{ PUBLIC_URL: 'ftp://share.example.com' }, /PUBLIC_URL: must be an origin/],
  ])('refuses %j with a message naming the variable', (env, message) => {
    expect(() => loadGatewayConfig(env)).toThrow(GatewayConfigError);
    expect(() => loadGatewayConfig(env)).toThrow(message);
  });

  it("refuses a key that is not the certificate's", () => {
    expect(() =>
      loadGatewayConfig({ TLS_CERT_FILE: cert(), TLS_KEY_FILE: join(dir, 'client-gw-1.key') }),
    ).toThrow(/TLS_KEY_FILE: .* is not the private key/);
  });

  it('hands a renewed certificate to the running server, and keeps the old one when the new does not load', () => {
    jest.useFakeTimers();
    try {
      const live = { certFile: join(dir, 'live.crt'), keyFile: join(dir, 'live.key') };
      copyFileSync(cert(), live.certFile);
      copyFileSync(key(), live.keyFile);
      const contexts: Array<{ cert: Buffer; key: Buffer }> = [];
      const server = {
        setSecureContext: (pair: { cert: Buffer; key: Buffer }) => contexts.push(pair),
      };
      const stop = reloadPublicTlsOnChange(
        server,
        live,
        createLogger({ service: 'spec', instance: 'spec', level: 'silent' }),
        1000,
      );
      jest.advanceTimersByTime(1000);
      expect(contexts).toHaveLength(0);
      // A renewal: another certificate with its key.
      copyFileSync(join(dir, 'client-gw-1.crt'), live.certFile);
      copyFileSync(join(dir, 'client-gw-1.key'), live.keyFile);
      jest.advanceTimersByTime(1000);
      expect(contexts).toHaveLength(1);
      expect(contexts[0]).toEqual(readPublicTls(live));
      // Half a renewal (the key of another certificate): not loaded.
      copyFileSync(key(), live.keyFile);
      jest.advanceTimersByTime(1000);
      expect(contexts).toHaveLength(1);
      stop();
    } finally {
      jest.useRealTimers();
    }
  });

  it('tells the page PUBLIC_URL in a meta tag in the head, and changes nothing without one', () => {
    const html = Buffer.from('<html><head><title>x</title></head><body></body></html>');
    expect(withPublicUrl(html, null)).toBe(html);
    expect(withPublicUrl(html, 'https://192.168.1.20:8443').toString()).toBe(
      '<html><head><title>x</title><meta name="es-public-url" content="https://192.168.1.20:8443" /></head><body></body></html>',
    );
  });
});
