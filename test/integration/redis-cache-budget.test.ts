// Issue #15, defect 3: with Redis hung, getOrSet must serve the loader's value within the call's
// budget, not after every retry of a read and of the write-back.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { createRedisCache, type RedisCache } from '../../src/adapters/redis/index.ts';
import type { PolicyOverrides } from '../../src/runtime/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findRedis } from '../support/servers.ts';
import { createTcpProxy, type TcpProxy } from '../servers/fakes/tcp-proxy.ts';

const redis = await findRedis();
// Slack for a loaded 2-core machine, where a timer can fire hundreds of ms late; below one more
// deadline, which is what a retried read or an awaited write-back would add.
const slackMs = 400;

describe('redis cache getOrSet within its budget', { skip: 'skip' in redis ? redis.skip : false }, () => {
  let proxy: TcpProxy;
  const caches: RedisCache[] = [];

  /** A cache through the proxy; the breaker stays closed, so every call meets the hang itself. */
  async function cacheWith(policies: PolicyOverrides): Promise<RedisCache> {
    const viaProxy = new URL('skip' in redis ? 'redis://x' : redis.url);
    viaProxy.hostname = proxy.host;
    viaProxy.port = String(proxy.port);
    const cache = createRedisCache(
      {
        url: viaProxy.toString(),
        keyPrefix: `budget:${process.pid}:`,
        policies: { breaker: { consecutiveFailures: 1_000 }, ...policies },
      },
      silentRuntime(),
    );
    caches.push(cache);
    await cache.set('warm', 1); // connected before the hang
    return cache;
  }

  /** Concurrent getOrSet calls while Redis is hung; each one's value and time. */
  async function duringHang(cache: RedisCache, count: number, options: { totalTimeoutMs?: number } = {}) {
    proxy.blackhole();
    return Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const started = performance.now();
        const value = await cache.getOrSet(`k:${i}`, () => Promise.resolve(`loaded ${i}`), {
          ...options,
          // The write-backs held in the hang land after restore(): let them expire.
          ttlMs: 60_000,
        });
        return { value, ms: performance.now() - started };
      }),
    );
  }

  before(async () => {
    if ('skip' in redis) return;
    const target = new URL(redis.url);
    proxy = await createTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
  });

  afterEach(async () => {
    proxy?.restore();
    await Promise.all(caches.splice(0).map((cache) => cache.close()));
  });

  after(async () => {
    await proxy?.close();
  });

  it('serves the loader within the default budget (one attempt’s deadline), retries configured', async () => {
    const timeoutMs = 800;
    const cache = await cacheWith({
      timeoutMs,
      retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 20 },
    });
    const results = await duringHang(cache, 20);
    results.forEach(({ value }, i) => assert.equal(value, `loaded ${i}`));
    const slowest = Math.max(...results.map(({ ms }) => ms));
    assert.ok(slowest >= timeoutMs - 5, `the read cannot have timed out yet: ${slowest} ms`);
    // The read is cut at the budget; the write-back, hung as well, goes on without the caller.
    assert.ok(slowest < timeoutMs + slackMs, `slowest getOrSet took ${slowest} ms`);
  });

  it('serves the loader within a per-call budget shorter than the deadline of one attempt', async () => {
    const cache = await cacheWith({ timeoutMs: 5_000, retry: { maxAttempts: 3 } });
    const results = await duringHang(cache, 5, { totalTimeoutMs: 300 });
    // Without a budget: three reads of 5 s each.
    results.forEach(({ value }, i) => assert.equal(value, `loaded ${i}`));
    const slowest = Math.max(...results.map(({ ms }) => ms));
    assert.ok(slowest < 300 + slackMs, `slowest getOrSet took ${slowest} ms`);
  });
});
