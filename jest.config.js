// Unit specs of every project (beside the code). Integration, end-to-end and
// browser suites live in apps/*-e2e and are run one by one by tools/test-all.sh.
const { readdirSync, existsSync } = require('node:fs');
const { join } = require('node:path');

const projects = ['apps', 'libs'].flatMap((dir) =>
  readdirSync(join(__dirname, dir))
    .filter((name) => !name.endsWith('-e2e'))
    .map((name) => join(__dirname, dir, name))
    .filter((path) => existsSync(join(path, 'jest.config.js'))),
);

module.exports = { projects };
