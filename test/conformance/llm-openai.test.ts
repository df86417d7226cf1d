import { after, before } from 'node:test';
import { createOpenAiClient } from '../../src/adapters/openai/index.ts';
import { llmClientConformance } from '../../src/testing/index.ts';
import { startLlmServer, type LlmTestServer } from '../servers/fakes/llm-servers.ts';
import { silentRuntime } from '../support/runtime.ts';

let server: LlmTestServer;
before(async () => (server = await startLlmServer({ apiKey: 'sk-test-conformance' })));
after(() => server.close());

llmClientConformance({
  name: 'openai',
  create: () =>
    createOpenAiClient(
      {
        apiKey: 'sk-test-conformance',
        baseUrl: `${server.url}/v1`,
        model: 'gpt-test',
        embeddingBatchSize: 16,
      },
      silentRuntime(),
    ),
  features: { echo: true, unsupported: [], embeddings: true },
});
