import { DEFAULT_KAFKA_BROKERS, DEFAULT_REDIS_URL, DistributedStack } from '@ephemeral/testing';

/**
 * Short leases: a lease a drained gateway left to expire, instead of being
 * taken over by the client's resume on another gateway, would be announced
 * LEFT within this TTL, and the drain specs wait longer than that for it.
 */
export const LEASE_TTL_SECONDS = 3;
/** How long a gateway given SIGTERM waits for its clients to move before it closes. */
export const DRAIN_TIMEOUT_MS = 8_000;

/** The distributed stack of the drain specs: short leases, a bounded drain. */
export function startDrainingStack(): Promise<DistributedStack> {
  return DistributedStack.start({
    kafkaBrokers: DEFAULT_KAFKA_BROKERS,
    redisUrl: DEFAULT_REDIS_URL,
    presenceEnv: { LEASE_TTL_MIN_SECONDS: '1' },
    gatewayEnv: {
      LEASE_TTL_SECONDS: String(LEASE_TTL_SECONDS),
      DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS),
    },
  });
}
