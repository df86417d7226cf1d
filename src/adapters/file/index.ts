export { createFileSecretStore } from './secret-store.ts';
export type { FileSecretStoreOptions } from '../../config/secret-store-schemas.ts';
