// What the gateway and presence share about talking to Kafka: the broker list
// setting and a kafkajs client that logs through pino.
export { createKafkaClient, type KafkaClientTimeouts } from './create-kafka-client';
export { kafkaBrokersSchema } from './kafka-brokers-schema';
