// The conformance cases of tool calls and embeddings. With `echo`, the backend follows the echo
// convention: given tools, it calls the first (or the one `toolChoice` names) with the last user
// message as its JSON arguments, and after a tool result it replies with that result.
import assert from 'node:assert/strict';
import { z } from 'zod';
import type { LlmClient, LlmMessage, LlmStreamPart, LlmTool } from '../ports/llm-client.ts';
import { rejectsWith } from './infra-assertions.ts';
import type { LlmClientConformanceOptions } from './llm-client-conformance.ts';
import type { TestApi } from './test-api.ts';

type WithClient = (fn: (client: LlmClient) => Promise<void>) => () => Promise<void>;

const weather: LlmTool = {
  name: 'get_weather',
  description: 'the weather in a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1 } },
    required: ['city'],
    additionalProperties: false,
  },
};
const question = (content: string): LlmMessage[] => [{ role: 'user', content }];

export function llmToolConformance(
  it: TestApi['it'],
  options: LlmClientConformanceOptions,
  withClient: WithClient,
): void {
  const { echo, unsupported } = options.features;
  if (unsupported.includes('tools')) {
    it(
      'refuses tools with validation, as it declares',
      withClient(async (client) => {
        await rejectsWith(client.generate({ messages: question('hi'), tools: [weather] }), 'validation');
        await rejectsWith(client.stream({ messages: question('hi'), tools: [weather] }).result, 'validation');
      }),
    );
    return;
  }

  it(
    'holds a two-turn tool conversation: a call with checked arguments, then a reply to its result',
    withClient(async (client) => {
      const messages = question(echo ? '{"city":"Paris","days":2}' : 'What is the weather in Paris?');
      const first = await client.generate({ messages, tools: [weather], toolChoice: 'required' });
      assert.ok(first.toolCalls.length > 0, 'the model asked for a tool');
      const [call] = first.toolCalls;
      assert.equal(call!.name, 'get_weather');
      assert.ok(call!.id.length > 0);
      assert.equal((call!.arguments as { city: string }).city.length > 0, true);
      if (echo) {
        assert.deepEqual(call!.arguments, { city: 'Paris', days: 2 });
        assert.equal(first.finishReason, 'tool_calls');
      }
      const second = await client.generate({
        messages: [
          ...messages,
          { role: 'assistant', content: first.text, toolCalls: first.toolCalls },
          { role: 'tool', toolCallId: call!.id, content: 'sunny, 21 degrees' },
        ],
        tools: [weather],
      });
      assert.deepEqual(second.toolCalls, []);
      if (echo) assert.equal(second.text, 'sunny, 21 degrees');
      else assert.ok(second.text.length > 0);
    }),
  );

  it(
    'checks arguments against a Standard Schema (zod) and sends it as JSON Schema',
    withClient(async (client) => {
      const tool: LlmTool = { name: 'lookup', parameters: z.object({ id: z.number().int() }) };
      const messages = question(echo ? '{"id":7}' : 'Look up the record with id 7.');
      const result = await client.generate({ messages, tools: [tool], toolChoice: { name: 'lookup' } });
      assert.equal(result.toolCalls[0]?.name, 'lookup');
      if (echo) assert.deepEqual(result.toolCalls[0]?.arguments, { id: 7 });
    }),
  );

  if (echo)
    it(
      'turns arguments that break the schema into validation naming the tool, in both calls',
      withClient(async (client) => {
        const messages = question('{"town":"Paris"}');
        const error = await rejectsWith(client.generate({ messages, tools: [weather] }), 'validation');
        assert.match(error.message, /get_weather/);
        const streamed = await rejectsWith(
          client.stream({ messages, tools: [weather] }).result,
          'validation',
        );
        assert.match(streamed.message, /get_weather/);
      }),
    );

  it(
    'streams tool calls as events beside text, whole and checked',
    withClient(async (client) => {
      const messages = question(echo ? '{"city":"Oslo"}' : 'What is the weather in Oslo?');
      const stream = client.stream({ messages, tools: [weather], toolChoice: 'required' });
      const parts: LlmStreamPart[] = [];
      for await (const part of stream.events()) parts.push(part);
      const result = await stream.result;
      const calls = parts.flatMap((part) => (part.type === 'tool_call' ? [part.toolCall] : []));
      assert.ok(calls.length > 0);
      assert.deepEqual(calls, result.toolCalls);
      if (echo) assert.deepEqual(calls[0]?.arguments, { city: 'Oslo' });
    }),
  );

  it(
    'rejects bad tools and tool messages with validation before any I/O',
    withClient(async (client) => {
      const bad = [
        { tools: [] },
        { tools: [{ name: 'has space', parameters: { type: 'object' } }] },
        { tools: [weather, weather] },
        { tools: [{ name: 'x', parameters: 'object' as unknown as Record<string, unknown> }] },
        { tools: [weather], toolChoice: { name: 'missing' } },
        { toolChoice: 'auto' as const },
      ];
      for (const fields of bad)
        await rejectsWith(client.generate({ messages: question('hi'), ...fields }), 'validation');
      await rejectsWith(client.generate({ messages: [{ role: 'tool', content: 'x' }] }), 'validation');
    }),
  );
}

export function llmEmbeddingConformance(
  it: TestApi['it'],
  options: LlmClientConformanceOptions,
  withClient: WithClient,
): void {
  if (!options.features.embeddings) {
    it(
      'refuses embeddings with validation, as it declares',
      withClient(async (client) => {
        await rejectsWith(client.embed(['hello']), 'validation');
      }),
    );
    return;
  }

  it(
    'embeds texts in batches: one vector each, in order, of one length, with usage',
    withClient(async (client) => {
      const texts = Array.from({ length: 40 }, (_, i) => `text number ${i}`);
      const result = await client.embed(texts);
      assert.equal(result.vectors.length, texts.length);
      assert.ok(result.dimensions > 0);
      assert.ok(result.vectors.every((v) => v.length === result.dimensions && v.every(Number.isFinite)));
      assert.ok(result.usage.inputTokens > 0);
      assert.ok(result.model.length > 0 && result.provider.length > 0);
      const again = await client.embed([texts[3]!, texts[0]!]);
      if (options.features.echo) assert.deepEqual(again.vectors, [result.vectors[3], result.vectors[0]]);
    }),
  );

  it(
    'rejects bad embedding input with validation before any I/O',
    withClient(async (client) => {
      await rejectsWith(client.embed([]), 'validation');
      await rejectsWith(client.embed(['ok', '']), 'validation');
      await rejectsWith(client.embed(['ok'], { dimensions: 0 }), 'validation');
    }),
  );
}
