import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describeKafkaSecurity, loadKafkaSecurity } from './kafka-security-config';

function load(env: Record<string, string>, brokersSet = true) {
  const problems: string[] = [];
  const security = loadKafkaSecurity(env, brokersSet, problems);
  return { security, problems };
}

describe('loadKafkaSecurity', () => {
  let dir: string;
  let passwordFile: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kafka-security-'));
    passwordFile = join(dir, 'password');
    // As `kubectl create secret --from-file` or `echo secret > file` leave it.
    writeFileSync(passwordFile, 's3cret-from-file\n');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is null without any KAFKA_SASL_* or KAFKA_SSL setting', () => {
    expect(load({})).toEqual({ security: null, problems: [] });
    expect(load({ KAFKA_SSL: 'false', KAFKA_SASL_USERNAME: '' })).toEqual({
      security: null,
      problems: [],
    });
  });

  it('reads a SCRAM login with the password from a file, without its trailing newline', () => {
    expect(
      load({
        KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
        KAFKA_SASL_USERNAME: 'ephemeral-gateway',
        KAFKA_SASL_PASSWORD_FILE: passwordFile,
      }),
    ).toEqual({
      security: {
        sasl: {
          mechanism: 'scram-sha-512',
          username: 'ephemeral-gateway',
          password: 's3cret-from-file',
        },
        ssl: null,
      },
      problems: [],
    });
  });

  it('takes the password from KAFKA_SASL_PASSWORD as it is', () => {
    const { security } = load({
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: 'presence',
      KAFKA_SASL_PASSWORD: ' spaces count ',
    });
    expect(security?.sasl).toEqual({
      mechanism: 'scram-sha-256',
      username: 'presence',
      password: ' spaces count ',
    });
  });

  it('asks for the whole SASL set when only part of it is given', () => {
    const { security, problems } = load({ KAFKA_SASL_USERNAME: 'gateway' });
    expect(security).toBeNull();
    expect(problems).toEqual([
      'KAFKA_SASL_MECHANISM: required with KAFKA_SASL_USERNAME: the KAFKA_SASL_* settings are set together or not at all',
      'KAFKA_SASL_PASSWORD_FILE (or KAFKA_SASL_PASSWORD): required with KAFKA_SASL_USERNAME: the KAFKA_SASL_* settings are set together or not at all',
    ]);
    expect(
      load({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_PASSWORD: 'x' }).problems,
    ).toEqual([expect.stringMatching(/^KAFKA_SASL_USERNAME: required with/)]);
  });

  it.each([
    [
      { KAFKA_SASL_PASSWORD: 'a', KAFKA_SASL_PASSWORD_FILE: '/x' },
      'KAFKA_SASL_PASSWORD: set KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both',
    ],
    [{ KAFKA_SASL_PASSWORD_FILE: '/nonexistent/pw' }, /^KAFKA_SASL_PASSWORD_FILE: cannot read/],
    [{ KAFKA_SASL_MECHANISM: 'plain' }, /^KAFKA_SASL_MECHANISM: must be "scram-sha-512"/],
    [{ KAFKA_SASL_USERNAME: 'has space' }, /^KAFKA_SASL_USERNAME: must be/],
  ])('refuses %j', (override, problem) => {
    const { security, problems } = load({
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'gateway',
      ...override,
    });
    expect(security).toBeNull();
    expect(problems).toEqual([
      typeof problem === 'string' ? problem : expect.stringMatching(problem),
    ]);
  });

  it('refuses an empty password file', () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(
      load({
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'gateway',
        KAFKA_SASL_PASSWORD_FILE: empty,
      }).problems,
    ).toEqual([`KAFKA_SASL_PASSWORD_FILE: ${empty} is empty`]);
  });

  it('refuses security settings without KAFKA_BROKERS', () => {
    expect(load({ KAFKA_SASL_USERNAME: 'gateway', KAFKA_SSL: 'true' }, false).problems).toEqual([
      'KAFKA_SASL_USERNAME: only used with KAFKA_BROKERS',
      'KAFKA_SSL: only used with KAFKA_BROKERS',
    ]);
  });

  it('turns TLS on with KAFKA_SSL=true, trusting Node CAs or the PEM in KAFKA_SSL_CA_FILE', () => {
    expect(load({ KAFKA_SSL: 'true' }).security).toEqual({ sasl: null, ssl: { ca: null } });
    const caFile = join(dir, 'ca.crt');
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
        '-keyout',
        join(dir, 'ca.key'),
        '-out',
        caFile,
        '-days',
        '1',
        '-subj',
        '/CN=test-ca',
      ],
      { stdio: 'ignore' },
    );
    const { security } = load({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: caFile });
    expect(security?.ssl?.ca?.toString()).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it.each([
    [{ KAFKA_SSL: 'yes' }, /^KAFKA_SSL: must be "true" or "false"/],
    [{ KAFKA_SSL_CA_FILE: '/ca.crt' }, 'KAFKA_SSL_CA_FILE: only used with KAFKA_SSL=true'],
    [{ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: '/nonexistent/ca.crt' }, /cannot read/],
  ])('refuses %j', (env, problem) => {
    expect(load(env).problems).toEqual([
      typeof problem === 'string' ? problem : expect.stringMatching(problem),
    ]);
  });

  it('refuses a CA file that holds no certificate', () => {
    expect(load({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: passwordFile }).problems).toEqual([
      `KAFKA_SSL_CA_FILE: ${passwordFile} holds no PEM CA certificate`,
    ]);
  });

  it('describes the settings for a log line without the password', () => {
    const { security } = load({
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'gateway',
      KAFKA_SASL_PASSWORD: 'never-logged',
      KAFKA_SSL: 'true',
    });
    const described = describeKafkaSecurity(security);
    expect(described).toEqual({
      sasl: { mechanism: 'scram-sha-512', username: 'gateway' },
      tls: { customCa: false },
    });
    expect(JSON.stringify(described)).not.toContain('never-logged');
    expect(describeKafkaSecurity(null)).toEqual({ sasl: null, tls: false });
  });
});
