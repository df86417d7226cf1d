import { defineAdapter } from '../../runtime/adapter-descriptor.ts';
import { azureKeyVaultSecretStoreOptionsSchema, type AzureKeyVaultSecretStoreOptions } from './options.ts';

/** An app registration's secret from the variables, else `DefaultAzureCredential` (which reads `AZURE_*` itself). */
export const azureKeyVaultSecretStoreAdapter = defineAdapter({
  port: 'secrets',
  driver: 'azure-keyvault',
  options: azureKeyVaultSecretStoreOptionsSchema,
  packages: ['@azure/identity', '@azure/keyvault-secrets'],
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
    AZURE_KEYVAULT_TENANT_ID: {
      option: 'clientSecretCredential.tenantId',
      description: 'app registration tenant',
    },
    AZURE_KEYVAULT_CLIENT_ID: {
      option: 'clientSecretCredential.clientId',
      description: 'app registration id',
    },
    AZURE_KEYVAULT_CLIENT_SECRET: {
      option: 'clientSecretCredential.clientSecret',
      kind: 'secret',
      description: 'app registration secret; without these three, DefaultAzureCredential',
    },
    AZURE_KEYVAULT_AUTHORITY_HOST: {
      option: 'clientSecretCredential.authorityHost',
      description: 'identity endpoint of a sovereign cloud or an emulator',
    },
    AZURE_KEYVAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION: {
      option: 'disableChallengeResourceVerification',
      kind: 'boolean',
      description: 'for a vault outside *.vault.azure.net',
    },
  },
  create: async (options, runtime) =>
    (await import('./secret-store.ts')).createAzureKeyVaultSecretStore(
      options as AzureKeyVaultSecretStoreOptions,
      runtime,
    ),
});
