// Unit specs for the transfer engine, the signaling client and the page
// stores: plain TypeScript in Node, no browser (fakes stand in for
// RTCPeerConnection, RTCDataChannel and WebSocket). Store specs use Angular's
// injector in JIT mode, so Angular's ES-module bundles are transpiled too.
module.exports = {
  displayName: 'web',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  // $localize, which main.ts gets as a polyfill (the pages' texts, ADR 0021).
  setupFiles: ['@angular/localize/init'],
  moduleFileExtensions: ['ts', 'mjs', 'js', 'json'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
    // @noble/hashes v2 and Angular ship ES modules only; Jest runs CommonJS,
    // so ts-jest transpiles those packages.
    '^.+/node_modules/(@noble/hashes|@angular)/.+\\.m?js$': [
      'ts-jest',
      { tsconfig: '<rootDir>/tsconfig.spec.json' },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@noble/hashes|@angular)/)'],
};
