export { createAzureKeyVaultSecretStore } from './secret-store.ts';
export { classifyKeyVaultError } from './errors.ts';
export type { AzureKeyVaultSecretStoreOptions } from './options.ts';
