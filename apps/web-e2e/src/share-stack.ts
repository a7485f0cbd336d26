import {
  requireBuiltWebApp,
  startAppStack,
  type AppStack,
  WEB_ROOT,
} from '@ephemeral/browser-testing';
import { DistributedStack, ensureKafka, ensureRedis } from '@ephemeral/testing';

/** Presence + gateway (serving the built web app) as real processes. */
export type ShareStack = AppStack;

/** `gatewayEnv`: more of the gateway's environment (TURN_SECRET and TURN_URLS, say). */
export function startShareStack(gatewayEnv: Record<string, string> = {}): Promise<ShareStack> {
  return startAppStack({ gatewayEnv });
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
