// Issue #15, defect 4: probes answer from the last report while checks refresh in the background.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { isInfraError } from '../../src/ports/errors.ts';
import { HealthChecker, type HealthCheckFunction } from '../../src/health/index.ts';
import { countedCheck } from '../support/health-checks.ts';

/** A check that answers up until `hang()`, then hangs for `ms` (or until aborted), as a stalled dependency does. */
function hangableCheck(ms: number): HealthCheckFunction & { calls: number; hang(): void } {
  let hanging = false;
  const check = Object.assign(
    (signal: AbortSignal) => {
      check.calls += 1;
      if (!hanging) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    },
    { calls: 0, hang: () => (hanging = true) },
  );
  return check;
}

/** Polls `probe` until `done` says so; returns when that happened, and how long the slowest call took. */
async function pollUntil<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  withinMs: number,
): Promise<{ atMs: number; slowestMs: number }> {
  const started = performance.now();
  let slowestMs = 0;
  while (performance.now() - started < withinMs) {
    const callStarted = performance.now();
    const value = await probe();
    slowestMs = Math.max(slowestMs, performance.now() - callStarted);
    if (done(value)) return { atMs: performance.now() - started, slowestMs };
    await sleep(20);
  }
  assert.fail(`not within ${withinMs} ms`);
}

describe('HealthChecker: background refresh', () => {
  it('answers at once from the last report while a check hangs, and turns down after its timeout', async () => {
    const checker = new HealthChecker({ refreshIntervalMs: 100 });
    const check = hangableCheck(5_000);
    checker.register('db', check, { timeoutMs: 400 });
    try {
      assert.equal((await checker.readiness()).status, 'up');
      check.hang();
      const hungAt = performance.now();
      const { atMs, slowestMs } = await pollUntil(
        () => checker.readiness(),
        (report) => report.status === 'down',
        5_000,
      );
      // No probe waited for the hung check: each answered from the last report. Generous bound:
      // a probe that waited would take the whole 400 ms timeout.
      assert.ok(slowestMs < 300, `a probe took ${slowestMs} ms`);
      const downAfterMs = performance.now() - hungAt;
      assert.ok(downAfterMs >= 395, `down ${downAfterMs} ms after the hang, before its timeout`);
      assert.ok(atMs < 100 + 400 + 2_000, `down only after ${atMs} ms`);
      assert.equal((await checker.readiness()).checks['db']?.error, 'timed out after 400 ms');
    } finally {
      checker.close();
    }
  });

  it('waits for the first run when there is no report yet, bounded by the check timeout', async () => {
    const checker = new HealthChecker({ refreshIntervalMs: 100 });
    const check = hangableCheck(5_000);
    check.hang();
    checker.register('db', check, { timeoutMs: 200 });
    try {
      const started = performance.now();
      const report = await checker.readiness();
      const elapsedMs = performance.now() - started;
      assert.equal(report.status, 'down');
      assert.ok(elapsedMs >= 195 && elapsedMs < 200 + 2_000, `took ${elapsedMs} ms`);
    } finally {
      checker.close();
    }
  });

  it('refreshes on its interval once probed, and stops on close()', async () => {
    const checker = new HealthChecker({ refreshIntervalMs: 30 });
    const check = countedCheck();
    checker.register('db', check);
    await sleep(100);
    assert.equal(check.calls, 0, 'nothing runs before the first probe');
    await checker.readiness();
    await pollUntil(
      () => Promise.resolve(check.calls),
      (calls) => calls >= 4,
      5_000,
    );
    checker.close();
    await sleep(50); // a run under way at close() may still finish
    const atClose = check.calls;
    await sleep(200);
    assert.equal(check.calls, atClose, 'no refresh after close()');
    // Still answers, from the last report.
    assert.equal((await checker.readiness()).status, 'up');
  });

  it('runs the checks now for a fresh report, without waiting for the interval', async () => {
    const checker = new HealthChecker({ refreshIntervalMs: 60_000 });
    let status: 'up' | 'down' = 'up';
    checker.register('db', () => Promise.resolve({ status }));
    try {
      assert.equal((await checker.readiness()).status, 'up');
      status = 'down';
      assert.equal((await checker.readiness()).status, 'up', 'the last report, until the next refresh');
      assert.equal((await checker.readiness({ fresh: true })).status, 'down');
      assert.equal((await checker.readiness()).status, 'down');
    } finally {
      checker.close();
    }
  });

  it('runs the checks on every call with refreshIntervalMs 0 (or cacheTtlMs 0)', async () => {
    for (const options of [{ refreshIntervalMs: 0 }, { cacheTtlMs: 0 }]) {
      const checker = new HealthChecker(options);
      const check = countedCheck();
      checker.register('db', check);
      await checker.readiness();
      await checker.readiness();
      assert.equal(check.calls, 2, JSON.stringify(options));
      await sleep(50);
      assert.equal(check.calls, 2, `no refresh in the background: ${JSON.stringify(options)}`);
    }
  });

  it('does not keep the process alive with its refresh timer', () => {
    const module = new URL('../../src/health/index.ts', import.meta.url).href;
    const program = `
      const { HealthChecker } = await import(${JSON.stringify(module)});
      const checker = new HealthChecker({ refreshIntervalMs: 50 });
      checker.register('db', async () => {});
      await checker.readiness();
      await new Promise((resolve) => setTimeout(resolve, 200));
      console.log('probed');
    `;
    const started = performance.now();
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', program], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(child.stdout.trim(), 'probed', child.stderr);
    assert.equal(child.status, 0, `exited with ${child.status} (${child.signal ?? 'no signal'})`);
    assert.ok(performance.now() - started < 20_000);
  });

  it('stops refreshing readiness after beginShutdown, which answers down without running checks', async () => {
    const checker = new HealthChecker({ refreshIntervalMs: 30 });
    const check = countedCheck();
    checker.register('db', check);
    try {
      await checker.readiness();
      checker.beginShutdown();
      await sleep(50);
      const atShutdown = check.calls;
      await sleep(200);
      assert.equal(check.calls, atShutdown);
      assert.equal((await checker.readiness()).reason, 'shutting down');
    } finally {
      checker.close();
    }
  });

  it('rejects a bad refreshIntervalMs', () => {
    for (const refreshIntervalMs of [-1, Number.NaN, 2 ** 31])
      assert.throws(
        () => new HealthChecker({ refreshIntervalMs }),
        (error: unknown) => isInfraError(error) && /refreshIntervalMs/.test(error.message),
      );
  });
});
