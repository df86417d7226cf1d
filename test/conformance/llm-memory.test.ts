import { createMemoryLlmClient } from '../../src/adapters/memory/index.ts';
import { llmClientConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';

llmClientConformance({
  name: 'memory',
  create: () => createMemoryLlmClient({}, silentRuntime()),
  features: { echo: true, unsupported: [], embeddings: true },
});

llmClientConformance({
  name: 'memory without JSON schemas, tools or embeddings',
  create: () =>
    createMemoryLlmClient({ unsupported: ['responseFormat', 'tools'], embeddings: false }, silentRuntime()),
  features: { echo: true, unsupported: ['responseFormat', 'tools'], embeddings: false },
});
