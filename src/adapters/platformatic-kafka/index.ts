export { createPlatformaticKafkaBroker, type PlatformaticKafkaBroker } from './broker.ts';
export { classifyPlatformaticKafkaError } from './errors.ts';
export type { PlatformaticKafkaBrokerOptions } from './options.ts';
