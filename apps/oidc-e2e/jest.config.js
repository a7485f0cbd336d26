// Sign-in against a real OpenID Provider (tools/oidc, oidc-provider) with the
// built gateway and presence (dist/). Run after `nx run-many -t build`; one
// file at a time (they bind ports).
module.exports = {
  displayName: 'oidc-e2e',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.e2e-spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  testTimeout: 60000,
};
