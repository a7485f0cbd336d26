// Unit specs for the transfer engine and signaling client: plain TypeScript,
// no Angular, no browser (fakes stand in for RTCDataChannel and WebSocket).
module.exports = {
  displayName: 'web',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
    // @noble/hashes v2 ships ES modules only; Jest runs CommonJS, so let
    // ts-jest transpile that one package.
    '^.+/@noble/hashes/.+\\.js$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  transformIgnorePatterns: ['/node_modules/(?!@noble/hashes/)'],
};
