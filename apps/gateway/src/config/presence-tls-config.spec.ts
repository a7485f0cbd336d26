import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { loadPresenceTlsConfig } from './presence-tls-config';

describe('loadPresenceTlsConfig (certificates from tools/tls/make-test-pki.sh)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gateway-tls-spec-'));
    const script = resolve(__dirname, '../../../../tools/tls/make-test-pki.sh');
    execFileSync('bash', [script, dir, 'gw-1'], { stdio: 'ignore' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const env = (overrides: Record<string, string> = {}) => ({
    PRESENCE_TLS_CERT_FILE: join(dir, 'client-gw-1.crt'),
    PRESENCE_TLS_KEY_FILE: join(dir, 'client-gw-1.key'),
    PRESENCE_TLS_CA_FILE: join(dir, 'ca.crt'),
    ...overrides,
  });
  const load = (vars: Record<string, string>, gatewayId?: string) => {
    const problems: string[] = [];
    return { tls: loadPresenceTlsConfig(vars, gatewayId, problems), problems };
  };

  it('is off (plaintext) when no PRESENCE_TLS_* is set, or only empty ones', () => {
    expect(load({})).toEqual({ tls: null, problems: [] });
    expect(load({ PRESENCE_TLS_CA_FILE: '' })).toEqual({ tls: null, problems: [] });
  });

  it("reads the files and takes the certificate's CN as the gateway ID", () => {
    expect(load(env({ PRESENCE_TLS_SERVER_NAME: 'presence-headless' }), 'gw-1')).toEqual({
      tls: {
        certFile: join(dir, 'client-gw-1.crt'),
        keyFile: join(dir, 'client-gw-1.key'),
        caFile: join(dir, 'ca.crt'),
        serverName: 'presence-headless',
        gatewayId: 'gw-1',
      },
      problems: [],
    });
    expect(load(env()).tls?.serverName).toBeNull();
  });

  it('refuses a GATEWAY_ID other than the CN presence will know the gateway by', () => {
    expect(load(env(), 'gw-2').problems).toEqual([
      expect.stringMatching(/^GATEWAY_ID: must be gw-1, the CN of PRESENCE_TLS_CERT_FILE/),
    ]);
  });

  it('wants the three files together', () => {
    expect(load({ PRESENCE_TLS_CA_FILE: join(dir, 'ca.crt') }).problems).toEqual([
      expect.stringMatching(/^PRESENCE_TLS_CERT_FILE: required with PRESENCE_TLS_CA_FILE/),
      expect.stringMatching(/^PRESENCE_TLS_KEY_FILE: required with PRESENCE_TLS_CA_FILE/),
    ]);
    expect(load({ PRESENCE_TLS_SERVER_NAME: 'presence' }).problems).toEqual([
      'PRESENCE_TLS_SERVER_NAME: only used with the PRESENCE_TLS_* files',
    ]);
  });

  it('names the variable of a file that will not do', () => {
    expect(load(env({ PRESENCE_TLS_KEY_FILE: join(dir, 'presence.key') })).problems).toEqual([
      expect.stringMatching(/^PRESENCE_TLS_KEY_FILE: the key in .* does not match/),
    ]);
    expect(load(env({ PRESENCE_TLS_SERVER_NAME: 'not a name' })).problems).toEqual([
      expect.stringMatching(/^PRESENCE_TLS_SERVER_NAME: must be a DNS name/),
    ]);
  });
});
