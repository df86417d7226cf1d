import assert from 'node:assert/strict';
import type { LlmClient, LlmOption } from '../ports/llm-client.ts';
import { rejectsWith } from './infra-assertions.ts';
import { llmEmbeddingConformance, llmToolConformance } from './llm-tool-conformance.ts';
import { nodeTestApi, type TestApi } from './test-api.ts';

export interface LlmClientFeatures {
  /** The backend replies with the last user message (the memory adapter's echo, the test servers). */
  echo: boolean;
  /** Options the adapter declares unsupported (`tools` among them): they must fail with `validation`. */
  unsupported: readonly LlmOption[];
  /** Whether `embed()` works; when false (the default) it must fail with `validation`. */
  embeddings?: boolean;
}

export interface LlmClientConformanceOptions {
  name: string;
  create: () => LlmClient | Promise<LlmClient>;
  features: LlmClientFeatures;
  test?: TestApi;
}

const finishReasons = ['stop', 'length', 'content_filter', 'tool_calls', 'other'];
const optionValues: Record<LlmOption, object> = {
  temperature: { temperature: 0.5 },
  maxTokens: { maxTokens: 5 },
  stop: { stop: ['zzz'] },
  responseFormat: { responseFormat: { type: 'json_schema', schema: { type: 'object' } } },
  tools: { tools: [{ name: 'noop', parameters: { type: 'object' } }], toolChoice: 'none' },
};

/** The behaviour every `LlmClient` adapter must show. */
export function llmClientConformance(options: LlmClientConformanceOptions): void {
  const { describe, it } = options.test ?? nodeTestApi;
  const withClient = (fn: (client: LlmClient) => Promise<void>) => async (): Promise<void> => {
    const client = await options.create();
    try {
      await fn(client);
    } finally {
      await client.close();
    }
  };
  const prompt = 'say hello to the conformance suite';

  describe(`llm client conformance: ${options.name}`, () => {
    it(
      'generates a reply with model, finish reason, usage and latency',
      withClient(async (client) => {
        const result = await client.generate({ messages: [{ role: 'user', content: prompt }] });
        assert.equal(typeof result.text, 'string');
        if (options.features.echo) assert.equal(result.text, prompt);
        assert.ok(result.model.length > 0);
        assert.ok(finishReasons.includes(result.finishReason));
        assert.ok(result.usage.inputTokens > 0 && result.usage.outputTokens > 0);
        assert.ok(result.latencyMs >= 0);
      }),
    );

    it(
      'streams deltas that add up to the final result',
      withClient(async (client) => {
        const stream = client.stream({
          messages: [
            { role: 'system', content: 'be brief' },
            { role: 'user', content: prompt },
          ],
        });
        const deltas: string[] = [];
        for await (const delta of stream) deltas.push(delta);
        const result = await stream.result;
        assert.ok(deltas.length > 0);
        assert.equal(deltas.join(''), result.text);
        if (options.features.echo) assert.equal(result.text, prompt);
        assert.ok(result.usage.outputTokens > 0);
      }),
    );

    it(
      'accepts the options it supports and rejects the others with validation',
      withClient(async (client) => {
        for (const [option, value] of Object.entries(optionValues) as [LlmOption, object][]) {
          const call = client.generate({ messages: [{ role: 'user', content: prompt }], ...value });
          if (options.features.unsupported.includes(option)) await rejectsWith(call, 'validation');
          else await call;
        }
      }),
    );

    llmToolConformance(it, options, withClient);
    llmEmbeddingConformance(it, options, withClient);

    it(
      'rejects bad requests with validation before any I/O',
      withClient(async (client) => {
        await rejectsWith(client.generate({ messages: [] }), 'validation');
        await rejectsWith(
          client.generate({ messages: [{ role: 'robot' as 'user', content: 'x' }] }),
          'validation',
        );
        await rejectsWith(
          client.generate({ messages: [{ role: 'user', content: 'x' }], temperature: -1 }),
          'validation',
        );
        await rejectsWith(client.stream({ messages: [], maxTokens: 0 }).result, 'validation');
      }),
    );

    it(
      'rejects with the caller’s abort reason',
      withClient(async (client) => {
        const controller = new AbortController();
        const reason = new Error('caller gave up');
        controller.abort(reason);
        await assert.rejects(
          client.generate({ messages: [{ role: 'user', content: prompt }], signal: controller.signal }),
          (error) => error === reason,
        );
      }),
    );

    it(
      'reports health up, and closed after close()',
      withClient(async (client) => {
        assert.equal((await client.health()).status, 'up');
        await client.close();
        await client.close();
        await rejectsWith(client.generate({ messages: [{ role: 'user', content: prompt }] }), 'closed');
        assert.equal((await client.health()).status, 'down');
      }),
    );
  });
}
