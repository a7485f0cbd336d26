// What the gateway and presence share about talking to Kafka: the broker list
// and security settings, a kafkajs client that logs through pino, creating a
// topic where the ACLs allow it, and a consumer that keeps itself running
// through broker outages.
export { createKafkaClient, type KafkaClientTimeouts } from './create-kafka-client';
export { disconnectWithin } from './disconnect-within';
export { ensureTopic, type EnsureTopicResult } from './ensure-topic';
export { kafkaBrokersSchema } from './kafka-brokers-schema';
export {
  describeKafkaSecurity,
  type KafkaSaslMechanism,
  type KafkaSecurity,
  loadKafkaSecurity,
} from './kafka-security-config';
export { SupervisedConsumer, type SupervisedConsumerOptions } from './supervised-consumer';
