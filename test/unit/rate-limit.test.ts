import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { createMemoryLlmClient } from '../../src/adapters/memory/index.ts';
import { isInfraError } from '../../src/ports/index.ts';
import { RateLimiter, type RateLimitPolicy } from '../../src/runtime/guard/rate-limit.ts';
import { silentRuntime } from '../support/runtime.ts';

const limiter = (policy: RateLimitPolicy, windowMs = 200) =>
  new RateLimiter({ policy, windowMs, refused: (why) => new Error(why) });

async function admit(l: RateLimiter, tokens = 0, maxWaitMs = 5_000): Promise<number> {
  const cost = { tokens };
  if (!l.take(cost)) await l.wait('op', cost, undefined, maxWaitMs);
  return performance.now();
}

describe('RateLimiter', () => {
  it('starts at most the request limit in any window, the rest in arrival order after it', async () => {
    const l = limiter({ requestsPerMinute: 3 });
    const t0 = performance.now();
    const starts = await Promise.all(Array.from({ length: 7 }, () => admit(l)));
    const offsets = starts.map((t) => t - t0);
    assert.ok(
      offsets.slice(0, 3).every((t) => t < 50),
      String(offsets),
    );
    assert.ok(
      offsets.slice(3, 6).every((t) => t >= 195 && t < 300),
      String(offsets),
    );
    assert.ok(offsets[6]! >= 395, String(offsets));
    for (let i = 0; i + 3 < starts.length; i++) assert.ok(starts[i + 3]! - starts[i]! >= 195);
  });

  it('counts tokens by estimate until corrected, and a correction lets waiters go at once', async () => {
    const l = limiter({ tokensPerMinute: 100 }, 10_000);
    const big = { tokens: 90 };
    assert.equal(l.take(big), true);
    assert.equal(l.take({ tokens: 20 }), false);
    const waiting = l.wait('op', { tokens: 20 }, undefined, 5_000);
    await sleep(20);
    assert.equal(l.queued, 1);
    l.correct(big, 10);
    await waiting;
    assert.equal(l.queued, 0);
  });

  it('lets a call larger than the whole token limit go alone', () => {
    const l = limiter({ tokensPerMinute: 10 }, 10_000);
    assert.equal(l.take({ tokens: 50 }), true);
    assert.equal(l.take({ tokens: 1 }), false);
  });

  it('refuses past the queue bound at once and after the wait allowed, and follows an abort', async () => {
    const l = limiter({ requestsPerMinute: 1, maxQueued: 2 }, 10_000);
    assert.equal(l.take(undefined), true);
    const slow = l.wait('op', undefined, undefined, 50);
    const controller = new AbortController();
    const aborted = l.wait('op', undefined, controller.signal, 5_000);
    await assert.rejects(l.wait('op', undefined, undefined, 5_000), /full/);
    controller.abort(new Error('caller gave up'));
    await assert.rejects(aborted, /caller gave up/);
    await assert.rejects(slow, /expired/);
    assert.equal(l.queued, 0);
  });

  it('holds every call during a cooldown, then lets them go', async () => {
    const l = limiter({}, 10_000);
    l.pause(150);
    const t0 = performance.now();
    const starts = await Promise.all([admit(l), admit(l), admit(l)]);
    assert.ok(
      starts.every((t) => t - t0 >= 145),
      String(starts.map((t) => t - t0)),
    );
    l.rejectQueued(new Error('closed'));
  });

  it('rejects the queue on rejectQueued', async () => {
    const l = limiter({ requestsPerMinute: 1 }, 10_000);
    l.take(undefined);
    const waiting = l.wait('op', undefined, undefined, 5_000);
    l.rejectQueued(new Error('closed'));
    await assert.rejects(waiting, /closed/);
  });
});

describe('policies.rateLimit on an LLM client', () => {
  it('corrects a token estimate by the reported usage', async () => {
    // maxTokens 80 makes each estimate 82 tokens; the memory backend reports 4 used.
    const llm = createMemoryLlmClient({ policies: { rateLimit: { tokensPerMinute: 100 } } }, silentRuntime());
    const messages = [{ role: 'user' as const, content: 'hi there' }];
    const started = performance.now();
    for (let i = 0; i < 3; i++) await llm.generate({ messages, maxTokens: 80 });
    assert.ok(performance.now() - started < 500, 'each call was counted by its usage once known');
    await llm.close();
    const slow = createMemoryLlmClient(
      { replies: [{ text: 'a b', delayMs: 150 }], policies: { rateLimit: { tokensPerMinute: 100 } } },
      silentRuntime(),
    );
    const t0 = performance.now();
    const [first, second] = await Promise.all([
      slow.generate({ messages, maxTokens: 80 }).then(() => performance.now() - t0),
      slow.generate({ messages, maxTokens: 80 }).then(() => performance.now() - t0),
    ]);
    assert.ok(first >= 145 && second >= first, `${first} ${second}: the second waited for the first's usage`);
    await assert.rejects(
      Promise.all([
        slow.generate({ messages, maxTokens: 200 }),
        slow.generate({ messages, totalTimeoutMs: 50 }),
      ]),
      (e) => isInfraError(e) && e.reason === 'rate_limited',
    );
    await slow.close();
  });

  it('rejects calls still waiting with closed when the client closes', async () => {
    const llm = createMemoryLlmClient({ policies: { rateLimit: { requestsPerMinute: 1 } } }, silentRuntime());
    const messages = [{ role: 'user' as const, content: 'x' }];
    await llm.generate({ messages });
    const waiting = llm.generate({ messages });
    await llm.close();
    await assert.rejects(waiting, (e) => isInfraError(e) && e.reason === 'closed');
  });
});
