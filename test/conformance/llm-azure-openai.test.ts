import { after, before } from 'node:test';
import { createAzureOpenAiClient } from '../../src/adapters/openai/index.ts';
import { llmClientConformance } from '../../src/testing/index.ts';
import { startLlmServer, type LlmTestServer } from '../servers/fakes/llm-servers.ts';
import { silentRuntime } from '../support/runtime.ts';

let server: LlmTestServer;
before(async () => (server = await startLlmServer({ apiKey: 'azure-test-key' })));
after(() => server.close());

llmClientConformance({
  name: 'azure openai',
  create: () =>
    createAzureOpenAiClient(
      {
        endpoint: server.url,
        deployment: 'gpt-test',
        apiVersion: '2024-10-21',
        apiKey: 'azure-test-key',
        embeddingModel: 'embed-test',
        embeddingBatchSize: 16,
      },
      silentRuntime(),
    ),
  features: { echo: true, unsupported: [], embeddings: true },
});
