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
  ])('stops with a message naming %s', (name, env) => {
    expect(() => loadGatewayConfig(env)).toThrow(GatewayConfigError);
    expect(() => loadGatewayConfig(env)).toThrow(name);
  });

  it('refuses the Kafka bus clearly until it exists', () => {
    expect(() => loadGatewayConfig({ SIGNAL_BUS: 'kafka' })).toThrow(
      /SIGNAL_BUS: the Kafka signal bus is not available/,
    );
    expect(() => loadGatewayConfig({ SIGNAL_BUS: 'carrier-pigeon' })).toThrow(/SIGNAL_BUS/);
  });
});
