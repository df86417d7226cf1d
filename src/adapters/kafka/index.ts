export { createKafkaBroker, type KafkaBroker } from './broker.ts';
export { classifyKafkaError } from './errors.ts';
export type { KafkaBrokerOptions } from './options.ts';
