import { defineAdapter } from '../../runtime/adapter-descriptor.ts';
import { kafkaConnectionEnv } from '../shared/kafka-options.ts';
import { platformaticKafkaBrokerOptionsSchema, type PlatformaticKafkaBrokerOptions } from './options.ts';

export const platformaticKafkaBrokerAdapter = defineAdapter({
  port: 'broker',
  driver: 'platformatic-kafka',
  options: platformaticKafkaBrokerOptionsSchema,
  packages: ['@platformatic/kafka'],
  env: kafkaConnectionEnv,
  create: async (options, runtime) =>
    (await import('./broker.ts')).createPlatformaticKafkaBroker(
      options as PlatformaticKafkaBrokerOptions,
      runtime,
    ),
});
