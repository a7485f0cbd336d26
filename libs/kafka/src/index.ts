// What the gateway and presence share about talking to Kafka: the broker list
// setting, a kafkajs client that logs through pino, and a consumer that keeps
// itself running through broker outages.
export { createKafkaClient, type KafkaClientTimeouts } from './create-kafka-client';
export { disconnectWithin } from './disconnect-within';
export { kafkaBrokersSchema } from './kafka-brokers-schema';
export { SupervisedConsumer, type SupervisedConsumerOptions } from './supervised-consumer';
