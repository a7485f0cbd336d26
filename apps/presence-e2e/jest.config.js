// Talks to real processes started from the built apps (dist/) and to the real
// local Redis and Kafka (tools/redis, tools/kafka). Run after
// `nx run-many -t build`; tests run one file at a time (they bind ports).
// It also runs presence's own *.e2e-spec.ts files: integration specs that live
// beside the code they test (the Redis lease store against a real Redis) and
// need the same infrastructure, but not the unit run's speed.
module.exports = {
  displayName: 'presence-e2e',
  preset: '../../jest.preset.js',
  rootDir: '.',
  roots: ['<rootDir>/src', '<rootDir>/../presence/src'],
  testMatch: ['**/*.e2e-spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  testTimeout: 30000,
};
