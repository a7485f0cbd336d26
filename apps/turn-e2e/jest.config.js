// TURN relay hardening against a real coturn (Debian's package, installed and
// started by tools/coturn/coturn.sh) running the config rendered from
// k8s/base/coturn; the gateway spec also needs the built apps (dist/). Tests
// run one file at a time (each starts its own coturn on loopback ports).
module.exports = {
  displayName: 'turn-e2e',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.e2e-spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  testTimeout: 30000,
};
