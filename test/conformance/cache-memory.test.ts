import { createMemoryCache } from '../../src/adapters/memory/index.ts';
import { cacheConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';

cacheConformance({
  name: 'memory',
  create: () => createMemoryCache({}, silentRuntime()),
  features: { shared: false },
});
