/** The process's kafkajs client, or null when KAFKA_BROKERS is unset. */
export const KAFKA_CLIENT = Symbol('KAFKA_CLIENT');
