export { createFileSecretStore } from './secret-store.ts';
export type { FileSecretStoreOptions } from './options.ts';
