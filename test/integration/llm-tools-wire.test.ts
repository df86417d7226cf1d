// Tool calls and embeddings as the real SDKs put them on the wire of the fake provider servers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAzureOpenAiClient, createOpenAiClient } from '../../src/adapters/openai/index.ts';
import { createOllamaClient } from '../../src/adapters/ollama/index.ts';
import type { LlmClient, LlmMessage, LlmTool } from '../../src/ports/index.ts';
import { startLlmServer, type LlmTestServer } from '../servers/fakes/llm-servers.ts';
import { silentRuntime } from '../support/runtime.ts';

let server: LlmTestServer;
before(async () => (server = await startLlmServer({ apiKey: 'k' })));
after(() => server.close());

const tool: LlmTool = {
  name: 'get_weather',
  description: 'weather',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
const clients: Record<string, () => LlmClient> = {
  openai: () =>
    createOpenAiClient({ apiKey: 'k', baseUrl: `${server.url}/v1`, model: 'gpt' }, silentRuntime()),
  azure: () =>
    createAzureOpenAiClient(
      { endpoint: server.url, deployment: 'chat-dep', apiKey: 'k', embeddingModel: 'embed-dep' },
      silentRuntime(),
    ),
  ollama: () =>
    createOllamaClient({ host: server.url, model: 'llama', embeddingModel: 'nomic' }, silentRuntime()),
};

async function conversation(client: LlmClient): Promise<string> {
  const messages: LlmMessage[] = [{ role: 'user', content: '{"city":"Lima"}' }];
  const first = await client.generate({ messages, tools: [tool] });
  const call = first.toolCalls[0]!;
  const second = await client.generate({
    messages: [
      ...messages,
      { role: 'assistant', content: '', toolCalls: first.toolCalls },
      { role: 'tool', toolCallId: call.id, content: 'foggy' },
    ],
    tools: [tool],
  });
  return second.text;
}

describe('tool calls and embeddings on the wire', () => {
  it('openai and azure send tools, the assistant calls and tool results in the chat completions shape', async () => {
    for (const name of ['openai', 'azure']) {
      const client = clients[name]!();
      const from = server.requests.length;
      assert.equal(await conversation(client), 'foggy');
      const [first, second] = server.requests.slice(from);
      assert.deepEqual(first!.body.tools, [{ type: 'function', function: tool }]);
      const sent = second!.body.messages as Record<string, unknown>[];
      assert.deepEqual((sent[1]!.tool_calls as unknown[])[0], {
        id: 'call_0',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Lima"}' },
      });
      assert.deepEqual(sent[2], { role: 'tool', tool_call_id: 'call_0', content: 'foggy' });
      if (name === 'azure') assert.match(second!.url, /^\/openai\/deployments\/chat-dep\/chat\/completions/);
      await client.close();
    }
  });

  it('ollama sends tools, tool_calls with object arguments, and names the tool of a result', async () => {
    const client = clients.ollama!();
    const from = server.requests.length;
    assert.equal(await conversation(client), 'foggy');
    const sent = server.requests[from + 1]!.body.messages as Record<string, unknown>[];
    assert.deepEqual(sent[1]!.tool_calls, [
      { function: { name: 'get_weather', arguments: { city: 'Lima' } } },
    ]);
    assert.deepEqual(sent[2], { role: 'tool', content: 'foggy', tool_name: 'get_weather' });
    await client.close();
  });

  it('embeds in batches of the batch size, in order, on each provider', async () => {
    const texts = Array.from({ length: 5 }, (_, i) => `t${i}`);
    const paths = {
      openai: /^\/v1\/embeddings$/,
      azure: /^\/openai\/deployments\/embed-dep\/embeddings/,
      ollama: /^\/api\/embed$/,
    };
    for (const [name, path] of Object.entries(paths)) {
      const client =
        name === 'ollama'
          ? createOllamaClient(
              { host: server.url, embeddingModel: 'nomic', embeddingBatchSize: 2 },
              silentRuntime(),
            )
          : name === 'openai'
            ? createOpenAiClient(
                { apiKey: 'k', baseUrl: `${server.url}/v1`, embeddingBatchSize: 2 },
                silentRuntime(),
              )
            : createAzureOpenAiClient(
                {
                  endpoint: server.url,
                  deployment: 'chat-dep',
                  apiKey: 'k',
                  embeddingModel: 'embed-dep',
                  embeddingBatchSize: 2,
                },
                silentRuntime(),
              );
      const from = server.requests.length;
      const result = await client.embed(texts, { dimensions: 4 });
      const sent = server.requests.slice(from);
      assert.deepEqual(
        sent.map((r) => r.body.input),
        [['t0', 't1'], ['t2', 't3'], ['t4']],
        name,
      );
      assert.ok(
        sent.every((r) => path.test(r.url)),
        `${name}: ${sent[0]!.url}`,
      );
      assert.equal(result.dimensions, 4);
      assert.equal(result.vectors.length, 5);
      const single = await client.embed(['t3'], { dimensions: 4 });
      assert.deepEqual(single.vectors[0], result.vectors[3]);
      await client.close();
    }
  });

  it('a model default is OpenAI’s small embedding model; Ollama without one is refused before any I/O', async () => {
    const openai = clients.openai!();
    const from = server.requests.length;
    assert.equal((await openai.embed(['x'])).model, 'text-embedding-3-small');
    const ollama = createOllamaClient({ host: server.url }, silentRuntime());
    await assert.rejects(ollama.embed(['x']), /embedding/);
    assert.equal(server.requests.length, from + 1);
    await openai.close();
    await ollama.close();
  });
});
