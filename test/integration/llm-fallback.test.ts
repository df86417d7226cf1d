// The fallback chain against two fake provider servers: the first fails in each way a provider
// does, the second answers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createOllamaClient } from '../../src/adapters/ollama/index.ts';
import { createOpenAiClient } from '../../src/adapters/openai/index.ts';
import { isInfraError } from '../../src/ports/index.ts';
import { createLlmFallback } from '../../src/runtime/index.ts';
import { startLlmServer, type LlmTestServer } from '../servers/fakes/llm-servers.ts';
import { silentRuntime } from '../support/runtime.ts';

let first: LlmTestServer;
let second: LlmTestServer;
before(async () => {
  first = await startLlmServer({ apiKey: 'k' });
  second = await startLlmServer();
});
after(async () => {
  await first.close();
  await second.close();
});

const messages = [{ role: 'user' as const, content: 'hello there' }];
const chain = (apiKey = 'k') =>
  createLlmFallback(
    [
      createOpenAiClient(
        {
          apiKey,
          baseUrl: `${first.url}/v1`,
          model: 'gpt',
          embeddingBatchSize: 4,
          policies: { timeoutMs: 400, retry: { initialDelayMs: 1 } },
        },
        silentRuntime(),
      ),
      createOllamaClient({ host: second.url, model: 'llama', embeddingModel: 'nomic' }, silentRuntime()),
    ],
    {},
    silentRuntime(),
  );
const failing = (step: Parameters<LlmTestServer['script']['push']>[0], times = 3) => {
  first.script.length = 0;
  for (let i = 0; i < times; i++) first.script.push(step);
};

describe('createLlmFallback against the fake servers', () => {
  it('answers from the second when the first says 503, hangs, or answers 429 with a long Retry-After', async () => {
    const llm = chain();
    const cases = [
      { kind: 'status', status: 503 },
      { kind: 'hang' },
      { kind: 'status', status: 429, headers: { 'retry-after': '30' } },
    ] as const;
    for (const step of cases) {
      failing(step);
      const started = performance.now();
      const result = await llm.generate({ messages });
      assert.equal(result.text, 'hello there', step.kind);
      assert.equal(result.provider, 'llm:ollama');
      // Within the first's deadline (400 ms) plus the second's answer.
      assert.ok(performance.now() - started < 1_500, `${step.kind}: ${performance.now() - started} ms`);
    }
    // Five failures in a row opened the first's circuit: circuit_open moves on without a request.
    first.script.length = 0;
    const asked = first.requests.length;
    assert.equal((await llm.generate({ messages })).provider, 'llm:ollama');
    assert.equal(first.requests.length, asked);
    await llm.close();
    const fresh = chain();
    assert.equal((await fresh.generate({ messages })).provider, 'llm:openai');
    await fresh.close();
  });

  it('does not fall back on a 401 or a 400: the caller hears them', async () => {
    const llm = chain('wrong-key');
    const before = second.requests.length;
    await assert.rejects(llm.generate({ messages }), (e) => isInfraError(e) && e.reason === 'unauthorized');
    await llm.close();
    const good = chain();
    failing({ kind: 'status', status: 400 }, 1);
    await assert.rejects(good.generate({ messages }), (e) => isInfraError(e) && e.reason === 'validation');
    assert.equal(second.requests.length, before, 'the second was never asked');
    await good.close();
  });

  it('falls back a stream before its first delta, never after one', async () => {
    const llm = chain();
    failing({ kind: 'status', status: 503 });
    const stream = llm.stream({ messages });
    const deltas: string[] = [];
    for await (const delta of stream) deltas.push(delta);
    assert.equal(deltas.join(''), 'hello there');
    assert.equal((await stream.result).provider, 'llm:ollama');
    failing({ kind: 'cut', deltas: ['hel'] }, 1);
    const before = second.requests.length;
    const cut = llm.stream({ messages });
    await assert.rejects(cut.result, (e) => isInfraError(e) && e.reason === 'unavailable');
    assert.equal(second.requests.length, before, 'a stream that yielded data is not moved');
    await llm.close();
  });

  it('falls back embeddings too', async () => {
    const llm = chain();
    failing({ kind: 'status', status: 503 });
    const result = await llm.embed(['a', 'b']);
    assert.equal(result.provider, 'llm:ollama');
    assert.equal(result.vectors.length, 2);
    await llm.close();
  });

  it('reports degraded while the first is down, down when all are, and closed after close()', async () => {
    const down = await startLlmServer();
    const url = down.url;
    await down.close();
    const llm = createLlmFallback(
      [
        createOllamaClient({ host: url, model: 'm' }, silentRuntime()),
        createOllamaClient({ id: 'llm:second', host: second.url, model: 'm' }, silentRuntime()),
      ],
      {},
      silentRuntime(),
    );
    const health = await llm.health();
    assert.equal(health.status, 'degraded');
    assert.deepEqual(health.details, { 'llm:ollama': 'down', 'llm:second': 'up' });
    assert.equal((await llm.generate({ messages })).provider, 'llm:second');
    const none = createLlmFallback([createOllamaClient({ host: url, model: 'm' }, silentRuntime())]);
    assert.equal((await none.health()).status, 'down');
    await none.close();
    await llm.close();
    await assert.rejects(llm.generate({ messages }), (e) => isInfraError(e) && e.reason === 'closed');
    assert.equal((await llm.health()).status, 'down');
  });
});

describe('createLlmFallback over memory clients', () => {
  it('keeps a filtered reply and a validation error, and refuses an empty chain', async () => {
    const { createMemoryLlmClient } = await import('../../src/adapters/memory/index.ts');
    const backup = createMemoryLlmClient({ id: 'llm:backup' }, silentRuntime());
    const llm = createLlmFallback([
      createMemoryLlmClient(
        { replies: [{ text: '', finishReason: 'content_filter' }, { error: 'validation' }] },
        silentRuntime(),
      ),
      backup,
    ]);
    const filtered = await llm.generate({ messages });
    assert.equal(filtered.finishReason, 'content_filter');
    assert.equal(filtered.provider, 'llm:memory');
    await assert.rejects(llm.generate({ messages }), (e) => isInfraError(e) && e.reason === 'validation');
    assert.equal(backup.requests.length, 0);
    await llm.close();
    assert.throws(
      () => createLlmFallback([]),
      (e) => isInfraError(e) && e.reason === 'config',
    );
  });
});
