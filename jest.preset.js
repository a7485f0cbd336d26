// Shared Jest settings for every project. ts-jest transpiles each file on its
// own (isolatedModules): type checking is the `typecheck` target's job, which
// keeps test runs fast on a 2-core machine.
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('./tsconfig.base.json');

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, {
    prefix: require('path').join(__dirname, '/'),
  }),
};
