import { defineAdapter } from '../../runtime/adapter-descriptor.ts';
import { kafkaConnectionEnv } from '../shared/kafka-options.ts';
import { kafkaBrokerOptionsSchema, type KafkaBrokerOptions } from './options.ts';

export const kafkaBrokerAdapter = defineAdapter({
  port: 'broker',
  driver: 'kafka',
  options: kafkaBrokerOptionsSchema,
  packages: ['kafkajs'],
  env: kafkaConnectionEnv,
  create: async (options, runtime) =>
    (await import('./broker.ts')).createKafkaBroker(options as KafkaBrokerOptions, runtime),
});
