import { existsSync } from 'node:fs';
import { join } from 'node:path';

import {
  builtAppEntry,
  DistributedStack,
  ensureKafka,
  ensureRedis,
  freePort,
  ServiceProcess,
  workspaceRoot,
} from '@ephemeral/testing';

/** The built web app every gateway of these stacks serves. */
const WEB_ROOT = join(workspaceRoot, 'dist/apps/web/browser');

function requireBuiltWebApp(): void {
  const webIndex = join(WEB_ROOT, 'index.html');
  if (!existsSync(webIndex))
    throw new Error(`${webIndex} is missing: run 'npx nx run web:build' first`);
}

/** Presence + gateway (serving the built web app) as real processes. */
export interface ShareStack {
  readonly origin: string;
  readonly gateway: ServiceProcess;
  readonly presence: ServiceProcess;
  stop(): Promise<void>;
}

/** `gatewayEnv`: more of the gateway's environment (TURN_SECRET and TURN_URLS, say). */
export async function startShareStack(
  gatewayEnv: Record<string, string> = {},
): Promise<ShareStack> {
  requireBuiltWebApp();
  const presencePort = await freePort();
  const presence = await ServiceProcess.start({
    name: 'presence',
    entry: builtAppEntry('presence'),
    env: { PRESENCE_HOST: '127.0.0.1', PRESENCE_PORT: String(presencePort), LOG_LEVEL: 'info' },
    readyWhen: /presence listening/,
  });
  try {
    const port = await freePort();
    const gateway = await ServiceProcess.start({
      name: 'gateway',
      entry: builtAppEntry('gateway'),
      env: {
        HOST: '127.0.0.1',
        PORT: String(port),
        PRESENCE_URL: `127.0.0.1:${presencePort}`,
        WEB_ROOT,
        LOG_LEVEL: 'info',
        ...gatewayEnv,
      },
      readyWhen: /gateway listening/,
    });
    return {
      origin: `http://127.0.0.1:${port}`,
      gateway,
      presence,
      stop: async () => {
        await gateway.stop('SIGTERM', 5000);
        await presence.stop('SIGTERM', 5000);
      },
    };
  } catch (error) {
    await presence.stop('SIGKILL');
    throw error;
  }
}

/**
 * The distributed mode serving the web app: two presence replicas sharing
 * leases in Redis and two gateways relaying signals through Kafka (the local
 * broker and Redis of tools/, started if they are not running and left
 * running), each gateway serving the built web app on its own origin.
 */
export interface DistributedShareStack {
  /** `origins[i]`: the web app and WebSocket of gateway i. */
  readonly origins: readonly string[];
  readonly stack: DistributedStack;
  stop(): Promise<void>;
}

export async function startDistributedShareStack(gateways = 2): Promise<DistributedShareStack> {
  requireBuiltWebApp();
  const [redisUrl, kafkaBrokers] = await Promise.all([ensureRedis(), ensureKafka()]);
  const stack = await DistributedStack.start({
    kafkaBrokers,
    redisUrl,
    gateways,
    presenceEnv: { LOG_LEVEL: 'info' },
    gatewayEnv: { WEB_ROOT, LOG_LEVEL: 'info' },
  });
  return {
    origins: stack.gatewayPorts.map((_, index) => stack.httpUrl(index)),
    stack,
    stop: () => stack.stop(),
  };
}

/** A share link (`<origin>/s/<peerId>#<secret>`) as opened on another origin (another gateway). */
export function linkOn(origin: string, link: string): string {
  const url = new URL(link);
  return `${origin}${url.pathname}${url.search}${url.hash}`;
}
