import { createMemoryDocumentStore } from '../../src/adapters/memory/index.ts';
import { documentStoreConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';

documentStoreConformance({
  name: 'memory',
  create: () => createMemoryDocumentStore({}, silentRuntime()),
});
