export { createAzureKeyVaultSecretStore } from './secret-store.ts';
export { classifyKeyVaultError } from './errors.ts';
export type { AzureKeyVaultSecretStoreOptions } from '../../config/secret-store-schemas.ts';
