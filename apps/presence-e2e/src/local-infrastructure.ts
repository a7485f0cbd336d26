import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { workspaceRoot } from '@ephemeral/testing';

/** The local Redis and Kafka that tools/ starts (loopback, fixed test ports). */
export const LOCAL_REDIS_URL = 'redis://127.0.0.1:16379';
export const LOCAL_KAFKA_BROKERS = '127.0.0.1:19092';

// install + start are idempotent: a running instance is reused in about a
// second; a cold Kafka start takes 5–10 s, a first install longer.
const INSTALL_TIMEOUT_MS = 120_000;
const START_TIMEOUT_MS = 120_000;
/** For beforeAll: both tools, cold, with margin. */
export const INFRASTRUCTURE_TIMEOUT_MS = 2 * (INSTALL_TIMEOUT_MS + START_TIMEOUT_MS);

function run(tool: 'redis' | 'kafka'): void {
  const script = join(workspaceRoot, 'tools', tool, `${tool}.sh`);
  execFileSync('bash', [script, 'install'], { stdio: 'ignore', timeout: INSTALL_TIMEOUT_MS });
  execFileSync('bash', [script, 'start'], { stdio: 'ignore', timeout: START_TIMEOUT_MS });
}

export function ensureLocalRedis(): void {
  run('redis');
}

export function ensureLocalKafka(): void {
  run('kafka');
}
