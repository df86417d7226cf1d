export { createFileSecretStore } from './secret-store.ts';
export type { FileSecretStoreOptions } from '../../options/secret-store-schemas.ts';
