// The distributed mode as real processes: Kafka and Redis from tools/ (started
// by the global setup if they are not running), two presence replicas (Redis
// leases, Kafka events) and two gateways (Kafka signal bus), all on loopback.
// Run after `nx run-many -t build`; one file at a time (they bind ports and
// one of them stops a broker).
module.exports = {
  displayName: 'distributed-e2e',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.e2e-spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  globalSetup: '<rootDir>/global-setup.js',
  // Process starts, lease expiries and a broker restart: bounded, but slow.
  testTimeout: 120000,
};
