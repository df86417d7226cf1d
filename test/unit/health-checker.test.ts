import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Component, HealthResult } from '../../src/ports/component.ts';
import { isInfraError } from '../../src/ports/errors.ts';
import { HealthChecker, type HealthCheckFunction } from '../../src/health/index.ts';
import { countedCheck } from '../support/health-checks.ts';

function component(id: string, result: HealthResult): Component & { signals: (AbortSignal | undefined)[] } {
  const signals: (AbortSignal | undefined)[] = [];
  return {
    id,
    signals,
    health(signal) {
      signals.push(signal);
      return Promise.resolve(result);
    },
    async close() {},
    async [Symbol.asyncDispose]() {},
  };
}

describe('HealthChecker: timeouts', () => {
  it('cuts a hanging check at its timeout, aborts its signal and reports the rest', async () => {
    const checker = new HealthChecker({ defaultTimeoutMs: 5_000 });
    let hungSignal: AbortSignal | undefined;
    // Counts the checks under way at once: all twenty together means the report waits for the
    // slowest check's deadline, not for the sum of the checks.
    let running = 0;
    let mostRunning = 0;
    const counted =
      (check: HealthCheckFunction): HealthCheckFunction =>
      async (signal) => {
        mostRunning = Math.max(mostRunning, ++running);
        try {
          return await check(signal);
        } finally {
          running--;
        }
      };
    checker.register(
      'hangs',
      counted((signal) => {
        hungSignal = signal;
        return new Promise<void>(() => {});
      }),
      { timeoutMs: 200 },
    );
    for (let i = 0; i < 19; i++) checker.register(`ok-${i}`, counted(countedCheck()));

    const started = performance.now();
    const report = await checker.readiness();
    const elapsed = performance.now() - started;

    assert.ok(elapsed >= 195, `came back too early: ${elapsed} ms`);
    assert.equal(mostRunning, 20, 'the checks run at once, not one after another');
    // Cut at its own 200 ms, far from the 5 s default: the slack is for a loaded machine, where a
    // timer can fire hundreds of ms late.
    assert.ok(elapsed < 200 + 2_000, `came back after ${elapsed} ms`);
    assert.equal(Object.keys(report.checks).length, 20);
    assert.equal(report.status, 'down');
    assert.equal(report.checks['hangs']?.status, 'down');
    assert.equal(report.checks['hangs']?.error, 'timed out after 200 ms');
    assert.equal(hungSignal?.aborted, true);
    assert.ok(isInfraError(hungSignal?.reason) && hungSignal.reason.reason === 'timeout');
    for (let i = 0; i < 19; i++) assert.equal(report.checks[`ok-${i}`]?.status, 'up', `ok-${i}`);
  });

  it('ignores a check that rejects after its timeout, without an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const checker = new HealthChecker();
      checker.register(
        'late',
        (signal) =>
          new Promise<void>((_, reject) => {
            signal.addEventListener('abort', () => reject(new Error('aborted late')));
          }),
        { timeoutMs: 20 },
      );
      const report = await checker.readiness();
      await sleep(20);
      assert.equal(report.checks['late']?.error, 'timed out after 20 ms');
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('uses defaultTimeoutMs for a check registered without a timeout', async () => {
    const checker = new HealthChecker({ defaultTimeoutMs: 30 });
    checker.register('hangs', () => new Promise<void>(() => {}));
    const report = await checker.readiness();
    assert.equal(report.checks['hangs']?.error, 'timed out after 30 ms');
  });
});

describe('HealthChecker: sharing and refreshing', () => {
  it('runs each check once for 1,000 concurrent calls, and again once the report is older than the interval', async () => {
    // An injected clock and a long real interval: "older than the interval" must not depend on
    // how fast 1,000 calls settle, nor on a timer.
    let now = 0;
    const checker = new HealthChecker({ refreshIntervalMs: 60_000, now: () => now });
    const checks = [countedCheck(), countedCheck(), countedCheck({ status: 'degraded' })];
    checks.forEach((check, i) => checker.register(`check-${i}`, check, { critical: i !== 2 }));

    const reports = await Promise.all(Array.from({ length: 1000 }, () => checker.readiness()));
    assert.deepEqual(
      checks.map((c) => c.calls),
      [1, 1, 1],
    );
    assert.ok(reports.every((r) => r === reports[0] && r.status === 'degraded'));

    now = 59_999;
    assert.equal(await checker.readiness(), reports[0], 'a call within the interval answers the last report');
    assert.deepEqual(
      checks.map((c) => c.calls),
      [1, 1, 1],
    );

    now = 60_000;
    const later = await Promise.all(Array.from({ length: 100 }, () => checker.readiness()));
    assert.ok(
      later.every((r) => r === reports[0]),
      'an old report is still answered at once, while one refresh runs',
    );
    assert.deepEqual(
      checks.map((c) => c.calls),
      [2, 2, 2],
    );
    checker.close();
  });

  it('caches each probe separately', async () => {
    const checker = new HealthChecker();
    const live = countedCheck();
    const ready = countedCheck();
    checker.register('live', live, { probes: ['liveness'] });
    checker.register('ready', ready);
    await checker.readiness();
    await checker.liveness();
    await checker.readiness();
    assert.deepEqual([live.calls, ready.calls], [1, 1]);
  });

  it('does not serve a cached report made before a registration change', async () => {
    const checker = new HealthChecker();
    checker.register('a', countedCheck());
    assert.deepEqual(Object.keys((await checker.readiness()).checks), ['a']);
    checker.register('b', countedCheck({ status: 'down' }));
    const report = await checker.readiness();
    assert.deepEqual(Object.keys(report.checks), ['a', 'b']);
    assert.equal(report.status, 'down');
  });
});

describe('HealthChecker: results and aggregation', () => {
  it('is up with every check up, and up with no checks', async () => {
    const checker = new HealthChecker();
    assert.equal((await checker.readiness()).status, 'up');
    checker.register('a', countedCheck());
    checker.register('b', countedCheck({ status: 'up', details: { pong: true } }));
    const report = await checker.readiness();
    assert.equal(report.status, 'up');
    assert.deepEqual(report.checks['b']?.details, { pong: true });
    assert.equal(typeof report.checks['a']?.latencyMs, 'number');
  });

  it('is down when a critical check is down', async () => {
    const checker = new HealthChecker();
    checker.register('critical', countedCheck({ status: 'down', error: 'no PONG' }));
    checker.register('optional', countedCheck({ status: 'down' }), { critical: false });
    const report = await checker.readiness();
    assert.equal(report.status, 'down');
    assert.equal(report.checks['critical']?.error, 'no PONG');
    assert.equal(report.checks['critical']?.critical, true);
  });

  it('is degraded when only a non-critical check is down', async () => {
    const checker = new HealthChecker();
    checker.register('critical', countedCheck());
    checker.register('optional', countedCheck({ status: 'down' }), { critical: false, tags: ['cache'] });
    const report = await checker.readiness();
    assert.equal(report.status, 'degraded');
    assert.equal(report.checks['optional']?.critical, false);
    assert.deepEqual(report.checks['optional']?.tags, ['cache']);
  });

  it('is degraded when a critical check is degraded', async () => {
    const checker = new HealthChecker();
    checker.register('critical', countedCheck({ status: 'degraded' }));
    checker.register('other', countedCheck());
    assert.equal((await checker.readiness()).status, 'degraded');
  });

  it('reports a thrown error as down with its message, sync or async', async () => {
    const checker = new HealthChecker();
    checker.register('rejects', () => Promise.reject(new Error('connection refused')));
    checker.register('throws', () => {
      throw new Error('thrown synchronously');
    });
    checker.register('invalid', () => Promise.resolve({ status: 'fine' } as unknown as HealthResult));
    const report = await checker.readiness();
    assert.equal(report.status, 'down');
    assert.deepEqual(
      [report.checks['rejects'], report.checks['throws'], report.checks['invalid']].map((c) => [
        c?.status,
        c?.error,
      ]),
      [
        ['down', 'connection refused'],
        ['down', 'thrown synchronously'],
        ['down', 'returned an invalid health result'],
      ],
    );
  });

  it("runs a Component's health with an AbortSignal", async () => {
    const checker = new HealthChecker();
    const redis = component('cache:redis', { status: 'degraded', details: { breaker: 'half-open' } });
    checker.register('redis', redis, { critical: false });
    const report = await checker.readiness();
    assert.equal(report.status, 'degraded');
    assert.deepEqual(report.checks['redis']?.details, { breaker: 'half-open' });
    assert.equal(redis.signals.length, 1);
    assert.ok(redis.signals[0] instanceof AbortSignal);
  });
});

describe('HealthChecker: registration', () => {
  it('unregisters, and a stale unregister leaves a newer registration alone', async () => {
    const checker = new HealthChecker();
    const unregister = checker.register('db', countedCheck({ status: 'down' }));
    assert.equal((await checker.readiness()).status, 'down');
    unregister();
    const report = await checker.readiness();
    assert.equal(report.status, 'up');
    assert.deepEqual(report.checks, {});

    checker.register('db', countedCheck({ status: 'down' }));
    unregister();
    assert.equal((await checker.readiness()).status, 'down');
  });

  it('throws ConfigError on a duplicate name', () => {
    const checker = new HealthChecker();
    checker.register('db', countedCheck());
    assert.throws(
      () => checker.register('db', countedCheck()),
      (error: unknown) =>
        isInfraError(error) && error.reason === 'config' && /already registered/.test(error.message),
    );
  });

  it('throws one ConfigError naming every bad option', () => {
    const checker = new HealthChecker();
    assert.throws(
      () =>
        checker.register('', 'nope' as unknown as HealthCheckFunction, {
          timeoutMs: 0,
          probes: ['ready' as 'readiness'],
        }),
      (error: unknown) =>
        isInfraError(error) &&
        ['name:', 'target:', 'timeoutMs:', 'probes:'].every((path) => error.message.includes(path)),
    );
    assert.throws(
      () => new HealthChecker({ cacheTtlMs: -1, defaultTimeoutMs: Number.NaN }),
      /cacheTtlMs.*defaultTimeoutMs/,
    );
  });

  it('names a component registered alone by its id, and takes options after it', async () => {
    const checker = new HealthChecker();
    const cache = component('cache:redis', { status: 'up' });
    const store = component('documents:mongodb', { status: 'down' });
    const unregister = checker.register(cache);
    checker.register(store, { critical: false, probes: ['liveness'] });
    const report = await checker.report();
    assert.deepEqual(Object.keys(report.checks).sort(), ['cache:redis', 'documents:mongodb']);
    assert.equal(report.checks['documents:mongodb']?.critical, false);
    assert.deepEqual(Object.keys((await checker.liveness()).checks), ['documents:mongodb']);
    assert.throws(() => checker.register(cache), /"cache:redis" is already registered/);
    unregister();
    assert.deepEqual(Object.keys((await checker.readiness()).checks), []);
    assert.throws(
      () => checker.register({ health: () => Promise.resolve({ status: 'up' }) } as unknown as Component),
      (error: unknown) => isInfraError(error) && error.reason === 'config' && /id:/.test(error.message),
    );
  });

  it('rejects unknown constructor options, such as a runtime passed by mistake', () => {
    const runtime = { logger: {}, registry: {}, policies: {} };
    assert.throws(
      () => new HealthChecker(runtime as never),
      (error: unknown) =>
        isInfraError(error) &&
        error.reason === 'config' &&
        ['logger', 'registry', 'policies'].every((key) => error.message.includes(key)),
    );
    assert.throws(
      () => new HealthChecker({ cacheTtlMs: 10, cacheTTL: 10 } as never),
      (error: unknown) => isInfraError(error) && error.reason === 'config' && /cacheTTL/.test(error.message),
    );
    assert.throws(
      () => new HealthChecker('fast' as never),
      (error: unknown) => isInfraError(error),
    );
  });
});

describe('HealthChecker: probes and lifecycle', () => {
  it('runs no readiness check for liveness, only checks registered for liveness', async () => {
    const checker = new HealthChecker();
    const ready = countedCheck({ status: 'down' });
    const live = countedCheck();
    checker.register('database', ready);
    checker.register('event-loop', live, { probes: ['liveness', 'readiness'] });
    const report = await checker.liveness();
    assert.equal(report.status, 'up');
    assert.deepEqual(Object.keys(report.checks), ['event-loop']);
    assert.equal(ready.calls, 0);
    assert.equal(live.calls, 1);
  });

  it('reports startup down until markStarted, then runs startup checks', async () => {
    const checker = new HealthChecker();
    const migrations = countedCheck({ status: 'degraded' });
    const ready = countedCheck();
    checker.register('migrations', migrations, { probes: ['startup'] });
    checker.register('database', ready);

    const before = await checker.startup();
    assert.equal(before.status, 'down');
    assert.equal(before.reason, 'not started');
    assert.equal(migrations.calls, 0);
    assert.equal(checker.isStarted, false);

    checker.markStarted();
    const after = await checker.startup();
    assert.equal(after.status, 'degraded');
    assert.deepEqual(Object.keys(after.checks), ['migrations']);
    assert.equal(migrations.calls, 1);
    assert.equal(ready.calls, 0);
  });

  it('reports readiness down at once on beginShutdown, despite a fresh cached up', async () => {
    const checker = new HealthChecker({ refreshIntervalMs: 60_000 });
    const ready = countedCheck();
    const live = countedCheck();
    checker.register('database', ready);
    checker.register('loop', live, { probes: ['liveness'] });
    assert.equal((await checker.readiness()).status, 'up');
    assert.equal((await checker.liveness()).status, 'up');

    checker.beginShutdown();
    assert.equal(checker.isShuttingDown, true);
    const report = await checker.readiness();
    assert.equal(report.status, 'down');
    assert.equal(report.reason, 'shutting down');
    assert.equal((await checker.report()).status, 'down');
    assert.equal(ready.calls, 1);
    assert.equal((await checker.liveness()).status, 'up');
  });

  it('answers down to a readiness call that was in flight when shutdown began', async () => {
    const checker = new HealthChecker();
    checker.register('slow', async () => {
      await sleep(30);
    });
    const pending = checker.readiness();
    checker.beginShutdown();
    assert.equal((await pending).reason, 'shutting down');
  });

  it('runs every check, whatever its probes, for report()', async () => {
    const checker = new HealthChecker();
    checker.register('live', countedCheck(), { probes: ['liveness'] });
    checker.register('ready', countedCheck({ status: 'down' }), { critical: false });
    checker.register('boot', countedCheck(), { probes: ['startup'] });
    const report = await checker.report();
    assert.deepEqual(Object.keys(report.checks).sort(), ['boot', 'live', 'ready']);
    assert.equal(report.status, 'degraded');
  });

  it('never throws from a probe, even when the clock throws: it stops caching instead', async () => {
    const checker = new HealthChecker({
      now: () => {
        throw new Error('clock broke');
      },
    });
    const check = countedCheck();
    checker.register('a', check);
    assert.equal((await checker.readiness()).status, 'up');
    assert.equal((await checker.readiness()).status, 'up');
    assert.equal(check.calls, 2);
  });
});
