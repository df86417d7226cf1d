import { defineAdapter } from '../../runtime/adapter-descriptor.ts';
import {
  azureKeyVaultSecretStoreOptionsSchema,
  type AzureKeyVaultSecretStoreOptions,
} from '../../options/secret-store-schemas.ts';

/** The credential is `DefaultAzureCredential`: it reads `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, … itself. */
export const azureKeyVaultSecretStoreAdapter = defineAdapter({
  port: 'secrets',
  driver: 'azure-keyvault',
  options: azureKeyVaultSecretStoreOptionsSchema,
  env: {
    AZURE_KEYVAULT_URL: {
      option: 'vaultUrl',
      required: true,
      description: 'https://<vault>.vault.azure.net',
    },
    AZURE_KEYVAULT_CA_FILE: {
      option: 'ca',
      kind: 'file',
      description: 'extra CA certificates (PEM) for this vault',
    },
  },
  create: async (options, runtime) =>
    (await import('./secret-store.ts')).createAzureKeyVaultSecretStore(
      options as AzureKeyVaultSecretStoreOptions,
      runtime,
    ),
});
