import { createMemoryLlmClient } from '../../src/adapters/memory/index.ts';
import { llmClientConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';

llmClientConformance({
  name: 'memory',
  create: () => createMemoryLlmClient({}, silentRuntime()),
  features: { echo: true, unsupported: [] },
});

llmClientConformance({
  name: 'memory without JSON schemas',
  create: () => createMemoryLlmClient({ unsupported: ['responseFormat'] }, silentRuntime()),
  features: { echo: true, unsupported: ['responseFormat'] },
});
