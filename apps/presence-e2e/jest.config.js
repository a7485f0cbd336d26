// Talks to real processes started from the built apps (dist/). Run after
// `nx run-many -t build`; tests run one file at a time (they bind ports).
module.exports = {
  displayName: 'presence-e2e',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.e2e-spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  testTimeout: 30000,
};
