import nx from '@nx/eslint-plugin';

// Server-only packages the browser bundle must never pull in.
const SERVER_ONLY_PACKAGES = [
  '@grpc/*',
  'kafkajs',
  'ioredis',
  '@nestjs/*',
  'pino',
  'prom-client',
  'ws',
  'zod',
];

// Which projects may import which (by tag); `allow` lists exceptions.
const moduleBoundaries = (allow) => [
  'error',
  {
    enforceBuildableLibDependency: true,
    allow,
    depConstraints: [
      // The protocol lib is the bottom of the graph.
      { sourceTag: 'type:protocol', onlyDependOnLibsWithTags: [] },
      {
        sourceTag: 'scope:web',
        onlyDependOnLibsWithTags: ['scope:shared'],
        bannedExternalImports: SERVER_ONLY_PACKAGES,
      },
      {
        sourceTag: 'scope:server',
        onlyDependOnLibsWithTags: ['scope:shared', 'scope:server'],
      },
      { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['scope:shared', 'scope:server'] },
    ],
  },
];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    ignores: [
      '**/dist',
      '**/node_modules',
      '**/.angular',
      '**/.nx',
      '**/coverage',
      'libs/protocol/src/gen/**',
      'tmp/**',
    ],
  },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    rules: {
      '@nx/enforce-module-boundaries': moduleBoundaries([]),
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // The web app may only use the browser-safe entry point of the protocol.
    files: ['apps/web/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@ephemeral/protocol/presence',
              message: 'Server-only: the web app talks to the gateway, never to presence.',
            },
          ],
        },
      ],
    },
  },
  {
    // The web app's specs run in Node and check zip output with the same
    // reader as the browser suites.
    files: ['apps/web/**/*.spec.ts'],
    rules: {
      '@nx/enforce-module-boundaries': moduleBoundaries(['@ephemeral/testing/zip-reader']),
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'apps/*-e2e/**/*.ts', 'tools/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
];
