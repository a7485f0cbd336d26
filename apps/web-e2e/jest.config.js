// Browser end-to-end: the built web app served by the real gateway (+ the real
// presence), driven in headless Debian Chromium through playwright-core.
// Run after `nx run-many -t build -p web gateway presence`. One file at a
// time: each starts its own servers and browsers and the box has 2 cores.
module.exports = {
  displayName: 'web-e2e',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.e2e-spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  // Per test; each scenario stays well under it (the 200 MB one takes ~20 s).
  testTimeout: 120_000,
};
