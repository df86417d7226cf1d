import { describe } from 'node:test';
import { createAzureKeyVaultSecretStore } from '../../src/adapters/azure-keyvault/index.ts';
import { secretStoreConformance } from '../../src/testing/index.ts';
import { keyVaultOptions } from '../support/keyvault.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findKeyVault } from '../support/servers.ts';

const vault = await findKeyVault();

if ('skip' in vault) {
  describe('secret store conformance: Azure Key Vault', { skip: vault.skip }, () => {});
} else {
  secretStoreConformance({
    name: `Azure Key Vault (${vault.url})`,
    write: true,
    create: async (secrets) => {
      const store = createAzureKeyVaultSecretStore(
        keyVaultOptions(vault),
        silentRuntime({ timeoutMs: 10_000 }),
      );
      await Promise.all(Object.entries(secrets).map(([name, value]) => store.set(name, value)));
      return store;
    },
  });
}
