// Browser end-to-end across the network lab of tools/netlab (docs/netlab.md):
// network namespaces, symmetric NATs, firewalls and a real coturn; the built
// web app served by the real gateway inside the lab's wan. Needs root, nft
// and ip netns (CI runs as root) and a fresh build of web, gateway and
// presence. One file at a time: the lab is one per machine.
module.exports = {
  displayName: 'netlab-e2e',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.e2e-spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  // Per test: a relayed transfer on a loaded two-core box, browsers included.
  testTimeout: 150_000,
};
