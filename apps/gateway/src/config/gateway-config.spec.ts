import { GatewayConfigError, loadGatewayConfig } from './gateway-config';

describe('loadGatewayConfig', () => {
  it('has the documented defaults', () => {
    const config = loadGatewayConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      wsPath: '/ws',
      presenceUrl: '127.0.0.1:50051',
      iceServers: [],
      leaseTtlSeconds: 15,
      maxFrameBytes: 65_536,
      maxSdpBytes: 32_768,
      signalBus: 'memory',
      logLevel: 'info',
      metrics: { host: '127.0.0.1', port: 9464 },
    });
    expect(config.gatewayId).toMatch(/-\d+-[0-9a-f]{6}$/);
    expect(config.webRoot).toMatch(/dist\/apps\/web\/browser$/);
  });

  it('reads overrides, PORT=0 included, and normalises ICE servers', () => {
    const config = loadGatewayConfig({
      PORT: '0',
      GATEWAY_ID: 'gw-1',
      ICE_SERVERS:
        '[{"urls":"stun:stun.example.org:3478"},{"urls":["turn:t.example.org"],"username":"u","credential":"c"}]',
    });
    expect(config.port).toBe(0);
    expect(config.gatewayId).toBe('gw-1');
    expect(config.iceServers).toEqual([
      { urls: ['stun:stun.example.org:3478'], username: '', credential: '' },
      { urls: ['turn:t.example.org'], username: 'u', credential: 'c' },
    ]);
  });

  it.each([
    ['PORT', { PORT: 'eighty' }],
    ['PORT', { PORT: '70000' }],
    ['ICE_SERVERS', { ICE_SERVERS: 'stun:x' }],
    ['ICE_SERVERS', { ICE_SERVERS: '[{"url":"stun:x"}]' }],
    ['PRESENCE_URL', { PRESENCE_URL: 'http://x/' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['MAX_SDP_BYTES', { MAX_SDP_BYTES: '70000' }],
    ['METRICS_PORT', { METRICS_PORT: '-1' }],
    ['METRICS_PORT', { PORT: '9000', METRICS_PORT: '9000' }],
    ['ALLOWED_ORIGINS', { ALLOWED_ORIGINS: 'share.example.com' }],
    ['ALLOWED_ORIGINS', { ALLOWED_ORIGINS: 'https://share.example.com/app' }],
    ['ALLOWED_ORIGINS', { ALLOWED_ORIGINS: 'ftp://share.example.com' }],
    ['ALLOWED_ORIGINS', { ALLOWED_ORIGINS: '*' }],
    ['TRUSTED_PROXIES', { TRUSTED_PROXIES: '10.0.0.0/33' }],
    ['TRUSTED_PROXIES', { TRUSTED_PROXIES: 'ingress-nginx' }],
    ['TRUSTED_PROXIES', { TRUSTED_PROXIES: '10.0.0.0/8/1' }],
    ['MAX_CONNECTIONS_PER_IP', { MAX_CONNECTIONS_PER_IP: '0' }],
    ['MAX_SIGNAL_BYTES_PER_TARGET_PER_SECOND', { MAX_SIGNAL_BYTES_PER_TARGET_PER_SECOND: '10' }],
  ])('stops with a message naming %s', (name, env) => {
    expect(() => loadGatewayConfig(env)).toThrow(GatewayConfigError);
    expect(() => loadGatewayConfig(env)).toThrow(name);
  });

  it('treats empty values as unset', () => {
    const config = loadGatewayConfig({ PORT: '', HOST: '', GATEWAY_ID: '', ICE_SERVERS: '' });
    expect(config).toMatchObject({ port: 8080, host: '127.0.0.1', iceServers: [] });
    expect(config.gatewayId).toMatch(/-\d+-[0-9a-f]{6}$/);
    expect(loadGatewayConfig({ TURN_SECRET: '', TURN_URLS: '' }).turn).toBeNull();
  });

  it.each(['0x10', '1e3', '1.5', ' 12', '12 ', '+5'])(
    'reads numbers as decimal digits only: refuses PORT=%j, naming PORT',
    (value) => {
      expect(() => loadGatewayConfig({ PORT: value })).toThrow(GatewayConfigError);
      expect(() => loadGatewayConfig({ PORT: value })).toThrow(
        'invalid gateway configuration:\n  PORT: must be a whole number in decimal digits',
      );
    },
  );

  it('turns on the Kafka bus with KAFKA_BROKERS, and presence events from Kafka by default', () => {
    const config = loadGatewayConfig({
      SIGNAL_BUS: 'kafka',
      KAFKA_BROKERS: 'k1.example:9092, k2.example:9092',
    });
    expect(config.signalBus).toBe('kafka');
    expect(config.kafka).toEqual({
      brokers: ['k1.example:9092', 'k2.example:9092'],
      clientId: 'ephemeral-gateway',
      security: null,
    });
    expect(config.presenceEventsSource).toBe('kafka');
    expect(loadGatewayConfig({}).presenceEventsSource).toBe('watch');
    expect(loadGatewayConfig({}).kafka).toBeNull();
    expect(
      loadGatewayConfig({
        SIGNAL_BUS: 'kafka',
        KAFKA_BROKERS: 'k:9092',
        PRESENCE_EVENTS_SOURCE: 'watch',
      }).presenceEventsSource,
    ).toBe('watch');
  });

  it('logs in to Kafka with KAFKA_SASL_*, and refuses half a login (exit 2)', () => {
    const config = loadGatewayConfig({
      SIGNAL_BUS: 'kafka',
      KAFKA_BROKERS: 'k:9092',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'ephemeral-gateway',
      KAFKA_SASL_PASSWORD: 'pw',
      KAFKA_SSL: 'true',
    });
    expect(config.kafka?.security).toEqual({
      sasl: { mechanism: 'scram-sha-512', username: 'ephemeral-gateway', password: 'pw' },
      ssl: { ca: null },
    });
    const half = () =>
      loadGatewayConfig({
        SIGNAL_BUS: 'kafka',
        KAFKA_BROKERS: 'k:9092',
        KAFKA_SASL_USERNAME: 'ephemeral-gateway',
      });
    expect(half).toThrow(GatewayConfigError);
    expect(half).toThrow(/KAFKA_SASL_MECHANISM: required with KAFKA_SASL_USERNAME/);
    expect(() => loadGatewayConfig({ KAFKA_SASL_USERNAME: 'gateway' })).toThrow(
      /KAFKA_SASL_USERNAME: only used with KAFKA_BROKERS/,
    );
  });

  it('refuses a Kafka setting without brokers, and unknown buses', () => {
    expect(() => loadGatewayConfig({ SIGNAL_BUS: 'kafka' })).toThrow(
      /KAFKA_BROKERS: required when SIGNAL_BUS=kafka/,
    );
    expect(() => loadGatewayConfig({ PRESENCE_EVENTS_SOURCE: 'kafka' })).toThrow(
      /KAFKA_BROKERS: required when PRESENCE_EVENTS_SOURCE=kafka/,
    );
    expect(() => loadGatewayConfig({ SIGNAL_BUS: 'carrier-pigeon' })).toThrow(/SIGNAL_BUS/);
    expect(() => loadGatewayConfig({ SIGNAL_BUS: 'kafka', KAFKA_BROKERS: 'no-port' })).toThrow(
      /KAFKA_BROKERS/,
    );
  });

  it.each([
    '127.0.0.1:50051',
    'presence:50051',
    'dns:///presence-headless:50051',
    'ipv4:127.0.0.1:50051,127.0.0.1:50052',
  ])('accepts the gRPC target PRESENCE_URL=%s', (target) => {
    expect(loadGatewayConfig({ PRESENCE_URL: target }).presenceUrl).toBe(target);
  });

  it('mints TURN credentials only with both TURN_SECRET and TURN_URLS', () => {
    const config = loadGatewayConfig({
      TURN_SECRET: 'sixteen-chars-or-more',
      TURN_URLS: 'turn:t.example:3478?transport=udp,turns:t.example:5349',
    });
    expect(config.turn).toEqual({
      urls: ['turn:t.example:3478?transport=udp', 'turns:t.example:5349'],
      secret: 'sixteen-chars-or-more',
      ttlSeconds: 600,
    });
    expect(loadGatewayConfig({}).turn).toBeNull();
    expect(() => loadGatewayConfig({ TURN_SECRET: 'sixteen-chars-or-more' })).toThrow(/TURN_URLS/);
    expect(() => loadGatewayConfig({ TURN_URLS: 'turn:t:3478' })).toThrow(/TURN_SECRET/);
    expect(() =>
      loadGatewayConfig({ TURN_URLS: 'stun:t:3478', TURN_SECRET: 'x'.repeat(16) }),
    ).toThrow(/TURN_URLS/);
    expect(() =>
      loadGatewayConfig({
        TURN_URLS: 'turn:t:3478',
        TURN_SECRET: 'x'.repeat(16),
        TURN_CREDENTIAL_TTL_SECONDS: '5',
      }),
    ).toThrow(/TURN_CREDENTIAL_TTL_SECONDS/);
  });

  it('never puts the TURN secret in an error message', () => {
    const secret = 'short-secret';
    expect(() => loadGatewayConfig({ TURN_SECRET: secret, TURN_URLS: 'turn:t:1' })).toThrow(
      /TURN_SECRET/,
    );
    try {
      loadGatewayConfig({ TURN_SECRET: secret, TURN_URLS: 'turn:t:1' });
    } catch (error) {
      expect((error as Error).message).not.toContain(secret);
    }
  });

  it('serves metrics on METRICS_HOST:METRICS_PORT, HOST by default, 0 = ephemeral', () => {
    expect(loadGatewayConfig({ HOST: '0.0.0.0', METRICS_PORT: '0' }).metrics).toEqual({
      host: '0.0.0.0',
      port: 0,
    });
    expect(
      loadGatewayConfig({ PORT: '9000', METRICS_HOST: '127.0.0.2', METRICS_PORT: '9000' }).metrics,
    ).toEqual({ host: '127.0.0.2', port: 9000 });
    expect(loadGatewayConfig({ PORT: '0', METRICS_PORT: '0' }).metrics.port).toBe(0);
  });

  it('allows only its own origin and trusts no proxy by default; limits per IP and per target', () => {
    expect(loadGatewayConfig({})).toMatchObject({
      allowedOrigins: [],
      trustedProxies: [],
      maxConnectionsPerIp: 100,
      maxSignalsPerIpPerSecond: 200,
      maxSignalsPerTargetPerSecond: 10,
      maxSignalsPerTargetBurst: 50,
      maxSignalBytesPerTargetPerSecond: 8_192,
    });
  });

  it('reads ALLOWED_ORIGINS as normalized origins and TRUSTED_PROXIES as CIDRs', () => {
    const config = loadGatewayConfig({
      ALLOWED_ORIGINS: ' https://Share.Example.com:443/ , http://localhost:4200',
      TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.7, fd00::/8',
    });
    expect(config.allowedOrigins).toEqual(['https://share.example.com', 'http://localhost:4200']);
    expect(config.trustedProxies).toEqual([
      { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
      { address: '192.168.1.7', prefix: 32, family: 'ipv4' },
      { address: 'fd00::', prefix: 8, family: 'ipv6' },
    ]);
  });

  it('raises the per-target burst to the per-target rate if below it', () => {
    const config = loadGatewayConfig({
      MAX_SIGNALS_PER_TARGET_PER_SECOND: '40',
      MAX_SIGNALS_PER_TARGET_BURST: '5',
    });
    expect(config.maxSignalsPerTargetBurst).toBe(40);
  });
});
