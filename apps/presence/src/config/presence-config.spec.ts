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

  it('treats empty values as unset', () => {
    expect(loadPresenceConfig({ PRESENCE_PORT: '' }).port).toBe(50051);
  });

  it.each([
    [{ PRESENCE_PORT: 'abc' }, 'PRESENCE_PORT'],
    [{ PRESENCE_PORT: '70000' }, 'PRESENCE_PORT'],
    [{ LEASE_TTL_MIN_SECONDS: '1.5' }, 'LEASE_TTL_MIN_SECONDS'],
    [{ LEASE_TTL_MIN_SECONDS: '60', LEASE_TTL_MAX_SECONDS: '30' }, 'LEASE_TTL_MIN_SECONDS'],
    [{ LEASE_TTL_DEFAULT_SECONDS: '500' }, 'LEASE_TTL_DEFAULT_SECONDS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ PRESENCE_INSTANCE_ID: 'has space' }, 'PRESENCE_INSTANCE_ID'],
  ])('refuses %j, naming %s', (env, variable) => {
    expect(() => loadPresenceConfig(env)).toThrow(PresenceConfigError);
    expect(() => loadPresenceConfig(env)).toThrow(variable);
  });

  it('refuses LEASE_STORE=redis with a clear message until the Redis store exists', () => {
    expect(() => loadPresenceConfig({ LEASE_STORE: 'redis' })).toThrow(
      /LEASE_STORE: "redis" is not available yet/,
    );
  });
});
