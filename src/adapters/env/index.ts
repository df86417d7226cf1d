export { createEnvSecretStore } from './secret-store.ts';
export type { EnvSecretStoreOptions } from './options.ts';
