import { defineAdapter } from '../../runtime/adapter-descriptor.ts';
import { kafkaBrokerOptionsSchema, type KafkaBrokerOptions } from './options.ts';

export const kafkaBrokerAdapter = defineAdapter({
  port: 'broker',
  driver: 'kafka',
  options: kafkaBrokerOptionsSchema,
  packages: ['kafkajs'],
  env: {
    KAFKA_BROKERS: {
      option: 'brokers',
      kind: 'list',
      required: true,
      description: 'bootstrap brokers, host:port,…',
    },
    KAFKA_CLIENT_ID: { option: 'clientId', description: "client id (default 'berth')" },
    KAFKA_SSL: { option: 'ssl', kind: 'boolean', description: 'TLS to the brokers' },
    KAFKA_SASL_MECHANISM: { option: 'sasl.mechanism', description: 'plain, scram-sha-256 or scram-sha-512' },
    KAFKA_SASL_USERNAME: { option: 'sasl.username', description: 'SASL user' },
    KAFKA_SASL_PASSWORD: { option: 'sasl.password', kind: 'secret', description: 'SASL password' },
  },
  create: async (options, runtime) =>
    (await import('./broker.ts')).createKafkaBroker(options as KafkaBrokerOptions, runtime),
});
