export { createEnvSecretStore } from './secret-store.ts';
export type { EnvSecretStoreOptions } from '../../config/secret-store-schemas.ts';
