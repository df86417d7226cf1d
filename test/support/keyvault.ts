import fs from 'node:fs';
import { ClientSecretCredential } from '@azure/identity';
import type { AzureKeyVaultSecretStoreOptions } from '../../src/adapters/azure-keyvault/index.ts';

interface Vault {
  url: string;
  caFile?: string;
  ca?: string;
  tenantId?: string | undefined;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  authorityHost?: string | undefined;
}

/**
 * Options for `createAzureKeyVaultSecretStore` against an emulator: a real ClientSecretCredential
 * where it issues tokens (berth's), else a fixed token (Lowkey Vault takes any); its certificate
 * trusted for this client only.
 */
export function keyVaultOptions(
  vault: Vault,
  overrides: Partial<AzureKeyVaultSecretStoreOptions> = {},
): AzureKeyVaultSecretStoreOptions {
  const ca = vault.ca ?? fs.readFileSync(vault.caFile!, 'utf8');
  const credential =
    vault.clientSecret && vault.tenantId && vault.clientId
      ? new ClientSecretCredential(vault.tenantId, vault.clientId, vault.clientSecret, {
          authorityHost: vault.authorityHost ?? vault.url,
          disableInstanceDiscovery: true, // else MSAL asks login.microsoftonline.com
          tlsOptions: { ca },
        })
      : {
          getToken: () =>
            Promise.resolve({ token: 'berth-fake-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
        };
  return {
    vaultUrl: vault.url,
    credential,
    ca,
    disableChallengeResourceVerification: true, // the vault is not under *.vault.azure.net
    purgeOnDelete: true,
    ...overrides,
  };
}
