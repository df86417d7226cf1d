import { createMemorySecretStore } from '../../src/adapters/memory/index.ts';
import { secretStoreConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';

secretStoreConformance({
  name: 'memory',
  write: true,
  create: (secrets) => createMemorySecretStore({ secrets: { ...secrets } }, silentRuntime()),
});
