import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

import type { SASLOptions } from 'kafkajs';

import { workspaceRoot } from './workspace-paths';

/**
 * The local Kafka and Redis of tools/kafka/kafka.sh and tools/redis/redis.sh,
 * driven from tests. Every command is idempotent (start on a running broker
 * is a no-op), so suites call ensure*() freely.
 */

export const DEFAULT_KAFKA_BROKERS = '127.0.0.1:19092';
/** kafka.sh's default KAFKA_DATA_DIR, relative to the workspace root. */
const DEFAULT_KAFKA_DATA_DIR = '.cache/kafka/run';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:16379';

// A cold install downloads ~65 MB of jars; a cold start takes ~5-10 s on 2
// cores. 120 s covers both on a busy CI runner.
const INFRA_TIMEOUT_MS = 120_000;
/** For a beforeAll that ensures both Kafka and Redis, cold: install + start each. */
export const INFRASTRUCTURE_TIMEOUT_MS = 4 * INFRA_TIMEOUT_MS;

/** Env for a second, private broker (its own ports and data dir) next to the shared one. */
export interface KafkaInstance {
  port: number;
  controllerPort: number;
  /** Relative to the workspace root or absolute. */
  dataDir: string;
}

function kafkaEnv(instance?: KafkaInstance): Record<string, string> {
  if (!instance) return {};
  return {
    KAFKA_PORT: String(instance.port),
    KAFKA_CONTROLLER_PORT: String(instance.controllerPort),
    KAFKA_DATA_DIR: join(workspaceRoot, instance.dataDir),
  };
}

function runScript(
  script: string,
  command: string,
  env: Record<string, string> = {},
): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolveRun) => {
    execFile(
      'bash',
      [join(workspaceRoot, script), command],
      { cwd: workspaceRoot, env: { ...process.env, ...env }, timeout: INFRA_TIMEOUT_MS },
      (error, stdout, stderr) => resolveRun({ ok: !error, output: `${stdout}${stderr}` }),
    );
  });
}

async function mustRun(
  script: string,
  command: string,
  env?: Record<string, string>,
): Promise<string> {
  const { ok, output } = await runScript(script, command, env);
  if (!ok) throw new Error(`${script} ${command} failed:\n${output}`);
  return output;
}

/** The service users of the local broker (tools/kafka/provision.conf grants their ACLs). */
export type KafkaServiceUser = 'gateway' | 'presence' | 'audit-reader';

/**
 * Where kafka.sh keeps a broker's passwords, `<user>.password` each
 * (`kafka.sh credentials <user>` prints the same paths). They exist once the
 * broker was started (ensureKafka).
 */
export function kafkaCredentialsDir(instance?: KafkaInstance): string {
  const dataDir = instance?.dataDir ?? DEFAULT_KAFKA_DATA_DIR;
  return join(isAbsolute(dataDir) ? dataDir : join(workspaceRoot, dataDir), 'credentials');
}

/**
 * The env that logs a gateway or presence process in to the local broker as
 * `user`: SCRAM-SHA-512, the password in a file (KAFKA_SASL_PASSWORD_FILE),
 * so no secret is in the environment or on a command line.
 */
export function kafkaServiceEnv(
  user: KafkaServiceUser,
  instance?: KafkaInstance,
): Record<string, string> {
  return {
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: user,
    KAFKA_SASL_PASSWORD_FILE: join(kafkaCredentialsDir(instance), `${user}.password`),
  };
}

/** A kafkajs login to the local broker as a service user, with that user's ACLs. */
export function kafkaServiceSasl(user: KafkaServiceUser, instance?: KafkaInstance): SASLOptions {
  const password = readFileSync(join(kafkaCredentialsDir(instance), `${user}.password`), 'utf8');
  return { mechanism: 'scram-sha-512', username: user, password };
}

/**
 * A kafkajs login as the broker's super user `admin` (PLAIN): for test
 * clients that read what the services wrote, in groups of their own.
 */
export function kafkaAdminSasl(instance?: KafkaInstance): SASLOptions {
  const password = readFileSync(join(kafkaCredentialsDir(instance), 'admin.password'), 'utf8');
  return { mechanism: 'plain', username: 'admin', password };
}

/** Whether the broker answers metadata now. */
export async function kafkaRunning(instance?: KafkaInstance): Promise<boolean> {
  return (await runScript('tools/kafka/kafka.sh', 'status', kafkaEnv(instance))).ok;
}

/** Installs (if needed) and starts (if needed) a broker; resolves with its bootstrap address. */
export async function ensureKafka(instance?: KafkaInstance): Promise<string> {
  await mustRun('tools/kafka/kafka.sh', 'install');
  await mustRun('tools/kafka/kafka.sh', 'start', kafkaEnv(instance));
  return instance ? `127.0.0.1:${instance.port}` : DEFAULT_KAFKA_BROKERS;
}

/**
 * Applies tools/kafka/provision.conf to the running broker (`kafka.sh
 * provision`): topics, users and ACLs added since it started, without the
 * restart that would cut off everyone else sharing it.
 */
export async function provisionKafka(instance?: KafkaInstance): Promise<void> {
  await mustRun('tools/kafka/kafka.sh', 'provision', kafkaEnv(instance));
}

/** Stops a broker (SIGTERM, then SIGKILL); a stopped one is left alone. */
export async function stopKafka(instance?: KafkaInstance): Promise<void> {
  await mustRun('tools/kafka/kafka.sh', 'stop', kafkaEnv(instance));
}

/** Stops a private broker and deletes its data dir. */
export async function resetKafka(instance: KafkaInstance): Promise<void> {
  await mustRun('tools/kafka/kafka.sh', 'reset', kafkaEnv(instance));
}

export async function redisRunning(): Promise<boolean> {
  return (await runScript('tools/redis/redis.sh', 'status')).ok;
}

/** Installs (if needed) and starts (if needed) the local Redis; resolves with its URL. */
export async function ensureRedis(): Promise<string> {
  await mustRun('tools/redis/redis.sh', 'install');
  await mustRun('tools/redis/redis.sh', 'start');
  return DEFAULT_REDIS_URL;
}

export async function stopRedis(): Promise<void> {
  await mustRun('tools/redis/redis.sh', 'stop');
}
