import { DEFAULT_KAFKA_BROKERS, DEFAULT_REDIS_URL, DistributedStack } from '@ephemeral/testing';

/**
 * Short leases, so what a killed process stops renewing expires within a
 * test: presence allows 1 s and grants 2 s by default, the gateways ask for
 * 2 s and renew every ~667 ms.
 */
export const LEASE_TTL_SECONDS = 2;

/** The distributed stack of the kill -9 specs (a gateway, a presence replica). */
export function startCrashStack(): Promise<DistributedStack> {
  return DistributedStack.start({
    kafkaBrokers: DEFAULT_KAFKA_BROKERS,
    redisUrl: DEFAULT_REDIS_URL,
    presenceEnv: { LEASE_TTL_MIN_SECONDS: '1', LEASE_TTL_DEFAULT_SECONDS: '2' },
    gatewayEnv: { LEASE_TTL_SECONDS: String(LEASE_TTL_SECONDS) },
  });
}
