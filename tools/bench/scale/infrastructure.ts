/**
 * The shared services of the scale run: the local Kafka broker and the local
 * Redis Cluster (tools/kafka/kafka.sh, tools/redis/redis.sh cluster-start),
 * started if they are not running and never stopped (other test runs share
 * them). Reads what the run reports about them: their process IDs (CPU),
 * each Redis node's role, commands processed and memory.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

import { Redis } from 'ioredis';

import { ensureKafka, workspaceRoot } from '@ephemeral/testing';

import { pidFromFile } from './proc-stats';

const CLUSTER_START_TIMEOUT_MS = 120_000;

function runTool(script: string, command: string): Promise<string> {
  return new Promise((resolveRun, reject) =>
    execFile(
      'bash',
      [join(workspaceRoot, script), command],
      { cwd: workspaceRoot, timeout: CLUSTER_START_TIMEOUT_MS },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(`${script} ${command} failed:\n${stdout}${stderr}`))
          : resolveRun(stdout),
    ),
  );
}

export interface Infrastructure {
  kafkaBrokers: string;
  /** host:port of every cluster node. */
  clusterNodes: string[];
}

export async function ensureInfrastructure(): Promise<Infrastructure> {
  const kafkaBrokers = await ensureKafka();
  await runTool('tools/redis/redis.sh', 'install');
  const output = await runTool('tools/redis/redis.sh', 'cluster-start');
  const nodes = /REDIS_CLUSTER_NODES=(\S+)/.exec(output)?.[1];
  if (!nodes) throw new Error(`redis.sh cluster-start printed no REDIS_CLUSTER_NODES:\n${output}`);
  return { kafkaBrokers, clusterNodes: nodes.split(',') };
}

export function kafkaPid(): number | undefined {
  return pidFromFile(join(workspaceRoot, '.cache/kafka/run/kafka.pid'));
}

export function redisNodePid(node: string): number | undefined {
  const port = node.slice(node.lastIndexOf(':') + 1);
  return pidFromFile(join(workspaceRoot, `.cache/redis-cluster/${port}/redis.pid`));
}

export interface RedisNodeStats {
  node: string;
  role: string;
  commandsProcessed: number;
  usedMemoryBytes: number;
  keys: number;
}

function infoField(info: string, field: string): string {
  return new RegExp(`^${field}:(\\S+)`, 'm').exec(info)?.[1] ?? '';
}

/** One plain connection per cluster node, for INFO and the clean-up. */
export class RedisNodes {
  private readonly clients: Redis[];

  constructor(readonly nodes: string[]) {
    this.clients = nodes.map((node) => {
      const at = node.lastIndexOf(':');
      return new Redis({
        host: node.slice(0, at),
        port: Number(node.slice(at + 1)),
        lazyConnect: false,
        maxRetriesPerRequest: 1,
      });
    });
  }

  stats(): Promise<RedisNodeStats[]> {
    return Promise.all(
      this.clients.map(async (client, i) => {
        const info = await client.info();
        const keyspace = /^db0:keys=(\d+)/m.exec(info)?.[1];
        return {
          node: this.nodes[i] as string,
          role: infoField(info, 'role'),
          commandsProcessed: Number(infoField(info, 'total_commands_processed')),
          usedMemoryBytes: Number(infoField(info, 'used_memory')),
          keys: Number(keyspace ?? 0),
        };
      }),
    );
  }

  /**
   * Deletes every key under `prefix` on the masters (leases of this run's
   * peers, its shards' counters and expiry indexes): the cluster is shared.
   * Bounded: at most `maxKeys` per node.
   */
  async deletePrefix(prefix: string, maxKeys = 2_000_000): Promise<number> {
    let deleted = 0;
    for (const client of this.clients) {
      if (infoField(await client.info('replication'), 'role') !== 'master') continue;
      let cursor = '0';
      let seen = 0;
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        seen += keys.length;
        if (keys.length > 0) {
          // One key per command: keys of different slots cannot share a DEL.
          const pipeline = client.pipeline();
          for (const key of keys) pipeline.unlink(key);
          await pipeline.exec();
          deleted += keys.length;
        }
      } while (cursor !== '0' && seen < maxKeys);
    }
    return deleted;
  }

  close(): void {
    for (const client of this.clients) client.disconnect();
  }
}
