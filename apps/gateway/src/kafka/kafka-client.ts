import type { KafkaClientTimeouts } from '@ephemeral/kafka';

/** The gateway's kafkajs timeouts (clients are built by createKafkaClient). */
export const GATEWAY_KAFKA_TIMEOUTS: KafkaClientTimeouts = {
  // Brokers answer in milliseconds on loopback or in-cluster: a TCP connect
  // that takes a second means the broker is gone, and failing fast is what
  // lets publish() answer UNAVAILABLE quickly instead of holding the sender.
  connectionTimeoutMs: 1_000,
  // Every request but JoinGroup (which kafkajs extends by the rebalance
  // timeout) gets this long; produce and fetch take single-digit ms.
  requestTimeoutMs: 5_000,
};
