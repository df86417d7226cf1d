import { defineAdapter } from '../../runtime/adapter-descriptor.ts';
import { fileSecretStoreOptionsSchema, type FileSecretStoreOptions } from './options.ts';

export const fileSecretStoreAdapter = defineAdapter({
  port: 'secrets',
  driver: 'file',
  options: fileSecretStoreOptionsSchema,
  env: {
    SECRETS_DIR: { option: 'directory', required: true, description: 'folder with one file per secret' },
  },
  create: async (options, runtime) =>
    (await import('./secret-store.ts')).createFileSecretStore(options as FileSecretStoreOptions, runtime),
});
