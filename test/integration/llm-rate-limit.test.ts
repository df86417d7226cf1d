// policies.rateLimit on the OpenAI client against the fake server, which logs each arrival.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createOpenAiClient } from '../../src/adapters/openai/index.ts';
import { isInfraError } from '../../src/ports/index.ts';
import type { PolicyOverrides } from '../../src/runtime/index.ts';
import { startLlmServer, type LlmTestServer } from '../servers/fakes/llm-servers.ts';
import { silentRuntime } from '../support/runtime.ts';

let server: LlmTestServer;
before(async () => (server = await startLlmServer({ apiKey: 'k' })));
after(() => server.close());

const client = (policies: PolicyOverrides) =>
  createOpenAiClient({ apiKey: 'k', baseUrl: `${server.url}/v1`, model: 'gpt', policies }, silentRuntime());
const messages = [{ role: 'user' as const, content: 'count me' }];
interface Outcome {
  ok: boolean;
  at: number;
  error: unknown;
}

describe('rate limits against the fake server', () => {
  it('200 calls at 60 a minute with 50 queued: 60 reach the server, 90 fail at once, 50 wait', async () => {
    const llm = client({ rateLimit: { requestsPerMinute: 60, maxQueued: 50 } });
    const from = server.requests.length;
    const started = performance.now();
    const outcomes = Array.from({ length: 200 }, () =>
      llm.generate({ messages }).then(
        (): Outcome => ({ ok: true, at: performance.now() - started, error: undefined }),
        (error: unknown): Outcome => ({ ok: false, at: performance.now() - started, error }),
      ),
    );
    await sleep(1_500);
    assert.equal(server.requests.length - from, 60, 'the server saw the limit, no more');
    await llm.close();
    const settled = await Promise.all(outcomes);
    const answered = settled.filter((o) => o.ok);
    const refused = settled.filter(
      (o) => !o.ok && isInfraError(o.error) && o.error.reason === 'rate_limited',
    );
    const closed = settled.filter((o) => !o.ok && isInfraError(o.error) && o.error.reason === 'closed');
    assert.equal(answered.length, 60);
    assert.equal(refused.length, 90);
    assert.ok(
      refused.every((o) => o.at < 200),
      'refused at once',
    );
    assert.equal(closed.length, 50, 'the queued ones waited until close');
    assert.equal(server.requests.length - from, 60);
  });

  it('a 429 with Retry-After: 2 holds every call of the client for 2 s, then all 20 complete', async () => {
    const llm = client({
      rateLimit: { requestsPerMinute: 1_000 },
      totalTimeoutMs: 10_000,
      retry: { initialDelayMs: 1 },
    });
    server.script.push({ kind: 'status', status: 429, headers: { 'retry-after': '2' } });
    const from = server.requests.length;
    const calls = [llm.generate({ messages })];
    // The others start while the first is answered with the 429 and after it, 20 ms apart.
    for (let i = 1; i < 20; i++) {
      await sleep(20);
      calls.push(llm.generate({ messages }));
    }
    const results = await Promise.all(calls);
    assert.equal(results.length, 20);
    const arrivals = server.requests.slice(from).map((r) => r.at);
    assert.equal(arrivals.length, 21, 'the 20 calls and the retry of the one refused');
    const refusedAt = arrivals[0]!;
    const during = arrivals.filter((at) => at > refusedAt + 1 && at < refusedAt + 1_950);
    assert.deepEqual(during, [], 'no request during the cooldown');
    assert.ok(arrivals.slice(1).every((at) => at >= refusedAt + 1_950));
    await llm.close();
  });

  it('LLM_RATE_LIMIT_* set the policy through loadConfig', async () => {
    const { loadConfig } = await import('../../src/config/index.ts');
    const config = await loadConfig(
      {
        LLM_DRIVER: 'memory',
        LLM_RATE_LIMIT_RPM: '60',
        LLM_RATE_LIMIT_TPM: '10000',
        LLM_RATE_LIMIT_MAX_QUEUED: '5',
      },
      { runtime: silentRuntime() },
    );
    assert.deepEqual((config.llm as { policies?: unknown }).policies, {
      rateLimit: { requestsPerMinute: 60, tokensPerMinute: 10_000, maxQueued: 5 },
    });
  });
});
