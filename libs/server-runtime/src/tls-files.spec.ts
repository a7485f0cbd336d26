import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import type { Logger } from '@ephemeral/logging';
import { eventually } from '@ephemeral/eventually';

import { checkTlsFiles, subjectCommonName, TlsFileWatcher } from './tls-files';

const VARIABLES = { certFile: 'X_CERT', keyFile: 'X_KEY', caFile: 'X_CA' };

describe('TLS files', () => {
  let dir: string;
  const file = (name: string) => join(dir, name);
  const gatewayA = () => ({
    certFile: file('client-gateway-a.crt'),
    keyFile: file('client-gateway-a.key'),
    caFile: file('ca.crt'),
  });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tls-files-spec-'));
    // Real certificates from the project's own tool.
    const script = resolve(__dirname, '../../../tools/tls/make-test-pki.sh');
    execFileSync('bash', [script, dir, 'gateway-a', 'gateway-b'], { stdio: 'ignore' });
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('checkTlsFiles', () => {
    it('accepts a matching certificate, key and CA, and returns the certificate', () => {
      const { problems, certificate } = checkTlsFiles(gatewayA(), VARIABLES);
      expect(problems).toEqual([]);
      expect(subjectCommonName(certificate?.subject)).toBe('gateway-a');
    });

    it('names the variable of a file that cannot be read', () => {
      const { problems } = checkTlsFiles({ ...gatewayA(), caFile: file('nope.crt') }, VARIABLES);
      expect(problems).toEqual([`X_CA: cannot read ${file('nope.crt')} (ENOENT)`]);
    });

    it('refuses a key that belongs to another certificate', () => {
      const { problems } = checkTlsFiles(
        { ...gatewayA(), keyFile: file('client-gateway-b.key') },
        VARIABLES,
      );
      expect(problems).toEqual([
        expect.stringMatching(/^X_KEY: the key in .* does not match the certificate in X_CERT$/),
      ]);
    });

    it('refuses files that hold the wrong thing', () => {
      const { problems } = checkTlsFiles(
        {
          certFile: file('client-gateway-a.key'),
          keyFile: file('client-gateway-a.crt'),
          caFile: file('client-gateway-a.key'),
        },
        VARIABLES,
      );
      expect(problems).toEqual([
        expect.stringMatching(/^X_CERT: .* holds no PEM certificate$/),
        expect.stringMatching(/^X_KEY: .* holds no \(unencrypted\) PEM private key$/),
        expect.stringMatching(/^X_CA: .* holds no PEM CA certificate$/),
      ]);
    });

    it('refuses an expired certificate', () => {
      const { problems } = checkTlsFiles(gatewayA(), VARIABLES, new Date('2999-01-01'));
      expect(problems).toEqual([
        expect.stringMatching(/^X_CERT: the certificate in .* expired on /),
      ]);
    });
  });

  describe('subjectCommonName', () => {
    it.each([
      ['CN=gateway-a', 'gateway-a'],
      ['O=Ephemeral\nCN=gateway-a', 'gateway-a'],
      ['O=Ephemeral', null],
      ['CN=a\nCN=b', null],
      [undefined, null],
    ])('reads %j as %j', (subject, expected) => {
      expect(subjectCommonName(subject)).toBe(expected);
    });

    it('reads the peer certificate form, refusing a repeated CN', () => {
      expect(subjectCommonName({ CN: 'gateway-a' } as never)).toBe('gateway-a');
      expect(subjectCommonName({ CN: ['a', 'b'] } as never)).toBeNull();
      expect(subjectCommonName({ O: 'x' } as never)).toBeNull();
    });
  });

  describe('TlsFileWatcher', () => {
    const fakeLogger = () => {
      const logger = { info: jest.fn(), error: jest.fn() };
      return { logger, asLogger: logger as unknown as Logger };
    };

    it('resolves start() once the files are read, and logs each renewal', async () => {
      const live = {
        certFile: file('live.crt'),
        keyFile: file('live.key'),
        caFile: file('ca.crt'),
      };
      copyFileSync(file('client-gateway-a.crt'), live.certFile);
      copyFileSync(file('client-gateway-a.key'), live.keyFile);
      const { logger, asLogger } = fakeLogger();
      const watcher = new TlsFileWatcher(live, { logger: asLogger, refreshIntervalMs: 50 });
      try {
        await watcher.start();
        expect(logger.info).toHaveBeenCalledWith(
          expect.objectContaining({ subject: 'CN=gateway-a' }),
          'TLS certificate loaded',
        );
        // A renewal, as cert-manager writes it: new certificate and key in place.
        copyFileSync(file('client-gateway-b.crt'), live.certFile);
        copyFileSync(file('client-gateway-b.key'), live.keyFile);
        await eventually(() =>
          expect(logger.info).toHaveBeenCalledWith(
            expect.objectContaining({ subject: 'CN=gateway-b' }),
            'TLS certificate reloaded',
          ),
        );
        // Unchanged files are not "reloaded" again. A sleep, not a wait: what
        // is checked is that nothing happens over four more re-reads.
        const calls = logger.info.mock.calls.length;
        await new Promise((resolveLater) => setTimeout(resolveLater, 200));
        expect(logger.info.mock.calls.length).toBe(calls);
        expect(logger.error).not.toHaveBeenCalled();
      } finally {
        watcher.stop();
      }
    });

    it('rejects start() when the files cannot be read', async () => {
      const { asLogger } = fakeLogger();
      const watcher = new TlsFileWatcher(
        { ...gatewayA(), certFile: file('missing.crt') },
        { logger: asLogger, refreshIntervalMs: 50 },
      );
      try {
        await expect(watcher.start()).rejects.toThrow(/cannot read the TLS files/);
      } finally {
        watcher.stop();
      }
    });

    it('logs once when the files become unreadable', async () => {
      const live = {
        certFile: file('flaky.crt'),
        keyFile: file('flaky.key'),
        caFile: file('ca.crt'),
      };
      copyFileSync(file('client-gateway-a.crt'), live.certFile);
      copyFileSync(file('client-gateway-a.key'), live.keyFile);
      const { logger, asLogger } = fakeLogger();
      const watcher = new TlsFileWatcher(live, { logger: asLogger, refreshIntervalMs: 50 });
      try {
        await watcher.start();
        writeFileSync(live.certFile, 'not a certificate');
        rmSync(live.keyFile);
        await eventually(() => expect(logger.error).toHaveBeenCalledTimes(1));
        // A sleep: nothing more must be logged over four more failed re-reads.
        await new Promise((resolveLater) => setTimeout(resolveLater, 200));
        expect(logger.error).toHaveBeenCalledTimes(1);
      } finally {
        watcher.stop();
      }
    });
  });
});
