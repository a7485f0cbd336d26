import nx from '@nx/eslint-plugin';
import angular from 'angular-eslint';

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

// The Angular app's sources, whose components the angular-eslint rules check.
const WEB_APP_TS = ['apps/web/src/app/**/*.ts', 'apps/web/src/main.ts'];

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
  // The Angular app: its TypeScript, and its templates (files and inline)
  // with angular-eslint's recommended and accessibility rules.
  ...angular.configs.tsRecommended.map((config) => ({ ...config, files: WEB_APP_TS })),
  {
    files: WEB_APP_TS,
    processor: angular.processInlineTemplates,
    rules: {
      '@angular-eslint/prefer-on-push-component-change-detection': 'error',
      '@angular-eslint/component-selector': [
        'error',
        { type: 'element', prefix: 'es', style: 'kebab-case' },
      ],
    },
  },
  ...[...angular.configs.templateRecommended, ...angular.configs.templateAccessibility].map(
    (config) => ({ ...config, files: ['apps/web/src/**/*.html'] }),
  ),
  {
    files: ['apps/web/src/**/*.html'],
    rules: {
      '@angular-eslint/template/prefer-control-flow': 'error',
      '@angular-eslint/template/button-has-type': 'error',
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
    files: [
      '**/*.spec.ts',
      '**/*.e2e-spec.ts',
      'apps/*-e2e/**/*.ts',
      'libs/browser-testing/**/*.ts',
      'tools/**/*.ts',
    ],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
];
