import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { loadPresenceConfig, PresenceConfigError } from './presence-config';

describe('loadPresenceConfig', () => {
  it('uses the documented defaults', () => {
    const config = loadPresenceConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 50051,
      leaseTtl: { defaultSeconds: 15, minSeconds: 1, maxSeconds: 120 },
      reaperIntervalMs: 250,
      leaseStore: 'memory',
      watchQueueLimit: 1024,
      shutdownGraceMs: 5000,
      logLevel: 'info',
    });
    expect(config.instanceId).toMatch(new RegExp(`-${process.pid}$`));
  });

  it('reads overrides and allows port 0 (ephemeral)', () => {
    const config = loadPresenceConfig({
      PRESENCE_HOST: '0.0.0.0',
      PRESENCE_PORT: '0',
      PRESENCE_INSTANCE_ID: 'presence-0',
      LEASE_TTL_DEFAULT_SECONDS: '5',
      LEASE_TTL_MIN_SECONDS: '2',
      LEASE_TTL_MAX_SECONDS: '30',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 0,
      instanceId: 'presence-0',
      leaseTtl: { defaultSeconds: 5, minSeconds: 2, maxSeconds: 30 },
      logLevel: 'debug',
    });
  });

  it('serves metrics on 9464 and PRESENCE_HOST unless told otherwise', () => {
    expect(loadPresenceConfig({}).metrics).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(loadPresenceConfig({ PRESENCE_HOST: '0.0.0.0' }).metrics.host).toBe('0.0.0.0');
    expect(
      loadPresenceConfig({ PRESENCE_HOST: '0.0.0.0', METRICS_HOST: '10.0.0.7', METRICS_PORT: '0' })
        .metrics,
    ).toEqual({ host: '10.0.0.7', port: 0 });
    // Both ephemeral: the OS gives them different ports.
    expect(loadPresenceConfig({ PRESENCE_PORT: '0', METRICS_PORT: '0' }).metrics.port).toBe(0);
  });

  it('treats empty values as unset', () => {
    expect(loadPresenceConfig({ PRESENCE_PORT: '' }).port).toBe(50051);
  });

  it.each(['0x10', '1e3', '1.5', ' 12', '12 ', '+5'])(
    'reads numbers as decimal digits only: refuses PRESENCE_PORT=%j, naming PRESENCE_PORT',
    (value) => {
      expect(() => loadPresenceConfig({ PRESENCE_PORT: value })).toThrow(PresenceConfigError);
      expect(() => loadPresenceConfig({ PRESENCE_PORT: value })).toThrow(
        'invalid presence configuration:\n  PRESENCE_PORT: must be a whole number in decimal digits',
      );
    },
  );

  it.each([
    [{ PRESENCE_PORT: 'abc' }, 'PRESENCE_PORT'],
    [{ PRESENCE_PORT: '70000' }, 'PRESENCE_PORT'],
    [{ LEASE_TTL_MIN_SECONDS: '1.5' }, 'LEASE_TTL_MIN_SECONDS'],
    [{ LEASE_TTL_MIN_SECONDS: '60', LEASE_TTL_MAX_SECONDS: '30' }, 'LEASE_TTL_MIN_SECONDS'],
    [{ LEASE_TTL_DEFAULT_SECONDS: '500' }, 'LEASE_TTL_DEFAULT_SECONDS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ PRESENCE_INSTANCE_ID: 'has space' }, 'PRESENCE_INSTANCE_ID'],
    [{ METRICS_PORT: '65536' }, 'METRICS_PORT'],
    [{ METRICS_PORT: 'x' }, 'METRICS_PORT'],
    [{ METRICS_PORT: '50051' }, 'METRICS_PORT'],
  ])('refuses %j, naming %s', (env, variable) => {
    expect(() => loadPresenceConfig(env)).toThrow(PresenceConfigError);
    expect(() => loadPresenceConfig(env)).toThrow(variable);
  });

  it('uses neither Redis nor Kafka by default (the embedded mode)', () => {
    expect(loadPresenceConfig({})).toMatchObject({
      leaseStore: 'memory',
      redis: null,
      kafka: null,
    });
    // REDIS_URL alone does not switch the store: LEASE_STORE decides.
    expect(loadPresenceConfig({ REDIS_URL: 'redis://elsewhere:6379' }).redis).toBeNull();
  });

  it('reads the Redis store settings, with the local Redis as the default URL', () => {
    expect(loadPresenceConfig({ LEASE_STORE: 'redis' }).redis).toEqual({
      url: 'redis://127.0.0.1:16379',
      keyPrefix: 'ephemeral:presence:',
      cluster: null,
    });
    expect(
      loadPresenceConfig({
        LEASE_STORE: 'redis',
        REDIS_URL: 'redis://:secret@redis:6379/0',
        REDIS_KEY_PREFIX: '{presence}:',
      }).redis,
    ).toEqual({ url: 'redis://:secret@redis:6379/0', keyPrefix: '{presence}:', cluster: null });
  });

  it('reads a Redis Cluster: seed nodes, shards (16) and replicas to wait for (1)', () => {
    expect(
      loadPresenceConfig({
        LEASE_STORE: 'redis',
        REDIS_CLUSTER_NODES: '127.0.0.1:17000, redis-1.redis:6379',
      }).redis?.cluster,
    ).toEqual({ nodes: ['127.0.0.1:17000', 'redis-1.redis:6379'], shards: 16, replicasToAck: 1 });
    expect(
      loadPresenceConfig({
        LEASE_STORE: 'redis',
        REDIS_CLUSTER_NODES: 'r:6379',
        REDIS_LEASE_SHARDS: '64',
        REDIS_REPLICAS_TO_ACK: '0',
      }).redis?.cluster,
    ).toEqual({ nodes: ['r:6379'], shards: 64, replicasToAck: 0 });
    expect(() =>
      loadPresenceConfig({ LEASE_STORE: 'redis', REDIS_CLUSTER_NODES: 'no-port' }),
    ).toThrow(/REDIS_CLUSTER_NODES/);
  });

  it('reads the Kafka brokers as a comma list', () => {
    expect(
      loadPresenceConfig({ KAFKA_BROKERS: '127.0.0.1:19092, kafka-1:9092', KAFKA_CLIENT_ID: 'p1' })
        .kafka,
    ).toEqual({ brokers: ['127.0.0.1:19092', 'kafka-1:9092'], clientId: 'p1', security: null });
    expect(loadPresenceConfig({ KAFKA_BROKERS: 'k:9092' }).kafka?.clientId).toBe(
      'ephemeral-presence',
    );
  });

  it('logs in to Kafka with KAFKA_SASL_*, the password read from a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'presence-kafka-'));
    try {
      const passwordFile = join(dir, 'password');
      writeFileSync(passwordFile, 'from-the-secret');
      expect(
        loadPresenceConfig({
          KAFKA_BROKERS: 'k:9092',
          KAFKA_SASL_MECHANISM: 'scram-sha-512',
          KAFKA_SASL_USERNAME: 'ephemeral-presence',
          KAFKA_SASL_PASSWORD_FILE: passwordFile,
        }).kafka?.security,
      ).toEqual({
        sasl: {
          mechanism: 'scram-sha-512',
          username: 'ephemeral-presence',
          password: 'from-the-secret',
        },
        ssl: null,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [{ LEASE_STORE: 'postgres' }, 'LEASE_STORE'],
    [{ KAFKA_BROKERS: 'k:9092', KAFKA_SASL_MECHANISM: 'scram-sha-512' }, 'KAFKA_SASL_USERNAME'],
    [{ KAFKA_BROKERS: 'k:9092', KAFKA_SASL_PASSWORD_FILE: '/none' }, 'KAFKA_SASL_MECHANISM'],
    [{ KAFKA_SASL_USERNAME: 'presence' }, 'KAFKA_SASL_USERNAME: only used with KAFKA_BROKERS'],
    [{ LEASE_STORE: 'redis', REDIS_URL: 'http://redis:6379' }, 'REDIS_URL'],
    [{ REDIS_KEY_PREFIX: 'has space' }, 'REDIS_KEY_PREFIX'],
    [{ KAFKA_BROKERS: 'kafka' }, 'KAFKA_BROKERS'],
    [{ KAFKA_BROKERS: ' , ' }, 'KAFKA_BROKERS'],
  ])('refuses %j, naming %s', (env, variable) => {
    expect(() => loadPresenceConfig(env)).toThrow(variable);
  });

  it('is plaintext, with no health port and 8 Watch streams per caller, by default', () => {
    expect(loadPresenceConfig({})).toMatchObject({
      tls: null,
      healthPort: null,
      maxWatchStreamsPerCaller: 8,
    });
    expect(
      loadPresenceConfig({ PRESENCE_HEALTH_PORT: '0', PRESENCE_MAX_WATCH_STREAMS_PER_CALLER: '2' }),
    ).toMatchObject({ healthPort: 0, maxWatchStreamsPerCaller: 2 });
  });

  it.each([
    [{ PRESENCE_HEALTH_PORT: '50051' }, 'PRESENCE_HEALTH_PORT: must differ from PRESENCE_PORT'],
    [{ PRESENCE_HEALTH_PORT: '9464' }, 'PRESENCE_HEALTH_PORT: must differ from METRICS_PORT'],
    [{ PRESENCE_MAX_WATCH_STREAMS_PER_CALLER: '0' }, 'PRESENCE_MAX_WATCH_STREAMS_PER_CALLER'],
    [
      { PRESENCE_TLS_CERT_FILE: '/c.crt' },
      'PRESENCE_TLS_KEY_FILE: required with PRESENCE_TLS_CERT_FILE',
    ],
    [
      { PRESENCE_TLS_CERT_FILE: '/c.crt', PRESENCE_TLS_KEY_FILE: '/c.key' },
      'PRESENCE_TLS_CA_FILE: required with PRESENCE_TLS_CERT_FILE and PRESENCE_TLS_KEY_FILE',
    ],
  ])('refuses %j: %s', (env, message) => {
    expect(() => loadPresenceConfig(env)).toThrow(PresenceConfigError);
    expect(() => loadPresenceConfig(env)).toThrow(message);
  });

  describe('with TLS files (made by tools/tls/make-test-pki.sh)', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'presence-config-spec-'));
      const script = resolve(__dirname, '../../../../tools/tls/make-test-pki.sh');
      execFileSync('bash', [script, dir], { stdio: 'ignore' });
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const tlsEnv = (overrides: Record<string, string> = {}) => ({
      PRESENCE_TLS_CERT_FILE: join(dir, 'presence.crt'),
      PRESENCE_TLS_KEY_FILE: join(dir, 'presence.key'),
      PRESENCE_TLS_CA_FILE: join(dir, 'ca.crt'),
      ...overrides,
    });

    it('reads the three files', () => {
      expect(loadPresenceConfig(tlsEnv()).tls).toEqual({
        certFile: join(dir, 'presence.crt'),
        keyFile: join(dir, 'presence.key'),
        caFile: join(dir, 'ca.crt'),
      });
    });

    it('stops at boot on files that would fail every handshake, naming the variable', () => {
      expect(() =>
        loadPresenceConfig(tlsEnv({ PRESENCE_TLS_KEY_FILE: join(dir, 'client-gateway-a.key') })),
      ).toThrow(/PRESENCE_TLS_KEY_FILE: the key in .* does not match the certificate/);
      expect(() =>
        loadPresenceConfig(tlsEnv({ PRESENCE_TLS_CA_FILE: join(dir, 'missing.crt') })),
      ).toThrow(/PRESENCE_TLS_CA_FILE: cannot read .*missing\.crt \(ENOENT\)/);
    });
  });
});
