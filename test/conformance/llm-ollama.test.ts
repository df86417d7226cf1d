import { after, before } from 'node:test';
import { createOllamaClient } from '../../src/adapters/ollama/index.ts';
import { llmClientConformance } from '../../src/testing/index.ts';
import { startLlmServer, type LlmTestServer } from '../servers/fakes/llm-servers.ts';
import { silentRuntime } from '../support/runtime.ts';

let server: LlmTestServer;
before(async () => (server = await startLlmServer()));
after(() => server.close());

llmClientConformance({
  name: 'ollama',
  create: () =>
    createOllamaClient(
      { host: server.url, model: 'llama-test', embeddingModel: 'embed-test', embeddingBatchSize: 16 },
      silentRuntime(),
    ),
  features: { echo: true, unsupported: [], embeddings: true },
});
