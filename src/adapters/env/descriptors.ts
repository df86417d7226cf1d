import { defineAdapter } from '../../runtime/adapter-descriptor.ts';
import { envSecretStoreOptionsSchema, type EnvSecretStoreOptions } from './options.ts';

export const envSecretStoreAdapter = defineAdapter({
  port: 'secrets',
  driver: 'env',
  options: envSecretStoreOptionsSchema,
  env: {
    SECRETS_ENV_PREFIX: {
      option: 'prefix',
      description: "prefix of the secrets' variables (default SECRET_)",
    },
  },
  environmentOption: 'env',
  create: async (options, runtime) =>
    (await import('./secret-store.ts')).createEnvSecretStore(options as EnvSecretStoreOptions, runtime),
});
