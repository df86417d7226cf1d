// Both Kafka drivers take the same options: the schema lives in adapters/shared.
export { kafkaBrokerOptionsSchema, type KafkaBrokerOptions } from '../shared/kafka-options.ts';
