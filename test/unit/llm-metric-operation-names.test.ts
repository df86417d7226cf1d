// Issue #28: the GenAI metrics name operations as the conventions do, as the spans already did:
// generate and stream are `chat`, embed is `embeddings` (they were berth's own names).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createMemoryLlmClient } from '../../src/adapters/memory/index.ts';
import { createLogger, createRuntime } from '../../src/runtime/index.ts';

describe('GenAI metric operation names', () => {
  it('labels generate and stream as chat, embed as embeddings, in the duration and token usage series', async () => {
    const registry = new Registry();
    const llm = createMemoryLlmClient(
      {},
      createRuntime({ logger: createLogger({ level: 'silent' }), registry }),
    );
    await llm.generate({ messages: [{ role: 'user', content: 'hi' }] });
    for await (const part of llm.stream({ messages: [{ role: 'user', content: 'hi' }] })) void part;
    await llm.embed(['a', 'b']);
    const text = await registry.metrics();
    const names = (metric: string): string[] =>
      [
        ...new Set(
          [...text.matchAll(new RegExp(`^${metric}\\S*\\{[^}]*gen_ai_operation_name="([^"]+)"`, 'gm'))].map(
            (m) => m[1]!,
          ),
        ),
      ].sort();
    assert.deepEqual(names('gen_ai_client_operation_duration_seconds'), ['chat', 'embeddings']);
    assert.deepEqual(names('gen_ai_client_token_usage'), ['chat', 'embeddings']);
    await llm.close();
  });
});
