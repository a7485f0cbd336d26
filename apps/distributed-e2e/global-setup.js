// Kafka and Redis through the tools/ scripts: installed and started if
// needed (both commands are idempotent), and left running afterwards: other
// suites and tools/start-distributed.sh share them, and
// `tools/kafka/kafka.sh stop` / `tools/redis/redis.sh stop` end them.
// Plain JS: Jest loads global setup outside the module mapper, so it cannot
// import @ephemeral/testing; the suites use the same scripts through it.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '../..');

function run(script, command) {
  execFileSync('bash', [join(root, script), command], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    // A cold install downloads ~65 MB; a cold start takes 5-10 s on 2 cores.
    timeout: 120_000,
  });
}

module.exports = async function globalSetup() {
  run('tools/redis/redis.sh', 'install');
  run('tools/redis/redis.sh', 'start');
  run('tools/kafka/kafka.sh', 'install');
  run('tools/kafka/kafka.sh', 'start');
};
