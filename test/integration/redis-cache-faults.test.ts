import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRedisCache, type RedisCache } from '../../src/adapters/redis/index.ts';
import { HealthChecker } from '../../src/health/index.ts';
import { isInfraError, type ErrorReason } from '../../src/ports/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findRedis } from '../support/servers.ts';
import { createTcpProxy, type TcpProxy } from '../servers/fakes/tcp-proxy.ts';
import { waitFor } from '../support/wait.ts';

// The client reconnects meanwhile: a call that fails counts as not yet.
const reconnecting = { everyMs: 50, ignoreErrors: true };

const redis = await findRedis();
// The operation deadline. Every timing bound below is a fraction or a multiple of it: an operation
// that waits for the deadline takes at least this long, while failing fast costs only CPU, which
// for a burst of 1,000 calls took 0.3-0.9 s on a loaded 2-core machine. So the deadline is long
// enough that the two never overlap.
const timeoutMs = 5_000;
// Long enough that the circuit opened by the first burst is still open for the next one on a
// slow machine (a half-open trial would hang in the blackhole); recovery waits this long.
const halfOpenAfterMs = 3_000;
const recoveryMs = halfOpenAfterMs + 7_000;

/** Settles `count` concurrent gets; returns each one's reason and how long the slowest took. */
async function failingGets(
  cache: RedisCache,
  count: number,
): Promise<{ reasons: Set<ErrorReason>; slowestMs: number }> {
  const started = performance.now();
  const results = await Promise.allSettled(Array.from({ length: count }, (_, i) => cache.get(`fault:${i}`)));
  const slowestMs = performance.now() - started;
  const reasons = new Set<ErrorReason>();
  for (const result of results) {
    assert.equal(result.status, 'rejected', 'an operation succeeded while the server was unreachable');
    assert.ok(isInfraError(result.reason), `not an InfraError: ${String(result.reason)}`);
    reasons.add(result.reason.reason);
  }
  return { reasons, slowestMs };
}

describe('redis cache under faults', { skip: 'skip' in redis ? redis.skip : false }, () => {
  let proxy: TcpProxy;
  let cache: RedisCache;
  let checker: HealthChecker;
  // After the proxy is restored: the cache reads `value` of k again, and readiness is up.
  const recovered = async (value: string): Promise<void> => {
    await waitFor(
      'the cache reads k',
      async () => (await cache.get('k')) === value,
      recoveryMs,
      reconnecting,
    );
    await waitFor(
      'readiness up',
      async () => (await checker.readiness()).status === 'up',
      recoveryMs,
      reconnecting,
    );
  };

  before(async () => {
    if ('skip' in redis) return;
    const target = new URL(redis.url);
    proxy = await createTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const viaProxy = new URL(redis.url);
    viaProxy.hostname = proxy.host;
    viaProxy.port = String(proxy.port);
    cache = createRedisCache(
      {
        url: viaProxy.toString(),
        keyPrefix: `faults:${process.pid}:`,
        policies: {
          timeoutMs,
          healthTimeoutMs: 300,
          retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 20 },
          breaker: { consecutiveFailures: 5, halfOpenAfterMs },
        },
      },
      silentRuntime(),
    );
    checker = new HealthChecker({ cacheTtlMs: 0 });
    checker.register('cache', cache, { timeoutMs: 1_000 });
    checker.markStarted();
  });

  after(async () => {
    await cache?.close();
    await proxy?.close();
  });

  it('with the server hung: fails within the deadline, opens the circuit, readiness down, then recovers', async () => {
    await cache.set('k', 'before');
    assert.equal((await checker.readiness()).status, 'up');

    proxy.blackhole();
    const first = await failingGets(cache, 20);
    // Two attempts at most, each cut at the deadline, plus backoff: never a hang.
    assert.ok(first.slowestMs < 2 * timeoutMs + 200, `slowest failure took ${first.slowestMs} ms`);
    for (const reason of first.reasons) assert.ok(['timeout', 'circuit_open'].includes(reason), reason);
    const fast = await failingGets(cache, 200);
    assert.deepEqual([...fast.reasons], ['circuit_open']);
    assert.ok(
      fast.slowestMs < timeoutMs / 2,
      `an open circuit should fail at once, not at the deadline; took ${fast.slowestMs} ms`,
    );
    const report = await checker.readiness();
    assert.equal(report.status, 'down');

    proxy.restore();
    await recovered('before');
  });

  it('with connections cut: fails fast as unavailable without queueing, then reconnects by itself', async () => {
    await cache.set('k', 'again');
    proxy.cut();
    await sleep(50);
    const down = await failingGets(cache, 1_000);
    for (const reason of down.reasons) assert.ok(['unavailable', 'circuit_open'].includes(reason), reason);
    assert.ok(
      down.reasons.has('unavailable'),
      `the first failures name the cause: ${[...down.reasons].join()}`,
    );
    assert.ok(
      down.slowestMs < timeoutMs,
      `offline operations must not wait for a reconnect, took ${down.slowestMs} ms`,
    );
    assert.equal((await checker.readiness()).status, 'down');

    proxy.restore();
    await recovered('again');
  });
});
