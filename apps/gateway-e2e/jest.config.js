// Talks to real processes started from the built apps (dist/). Run after
// `nx run-many -t build`; tests run one file at a time (they bind ports).
// It also runs the gateway's own *.e2e-spec.ts files: specs that live beside
// the code they test (the gRPC presence client) and need a real presence.
module.exports = {
  displayName: 'gateway-e2e',
  preset: '../../jest.preset.js',
  rootDir: '.',
  roots: ['<rootDir>/src', '<rootDir>/../gateway/src'],
  testMatch: ['**/*.e2e-spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  testTimeout: 30000,
};
