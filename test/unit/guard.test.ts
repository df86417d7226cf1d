import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Guard, semconv, type GuardSpec } from '../../src/runtime/index.ts';
import { policyOverridesSchema } from '../../src/runtime/options/schema-pieces.ts';
import { InfraError, isInfraError, type ErrorReason } from '../../src/ports/index.ts';
import type { OperationContext } from '../../src/ports/index.ts';
import { silentRuntime } from '../support/runtime.ts';

type Op = 'read' | 'append';

function createGuard(policies: GuardSpec<Op>['policies'] = {}) {
  // Runtime defaults far from any test's own values: a bound that holds shows the test's value won.
  const runtime = silentRuntime({ timeoutMs: 60_000, healthTimeoutMs: 60_000 });
  const guard = new Guard<Op>(
    {
      id: 'test:fake',
      port: 'test',
      system: 'fake',
      operations: { read: { idempotent: true }, append: { idempotent: false } },
      metrics: semconv.dbClientOperationDuration,
      classifyError: (error) =>
        error instanceof Error && error.message === 'down'
          ? { reason: 'unavailable' }
          : { reason: 'internal' },
      policies: { retry: { initialDelayMs: 1, maxDelayMs: 5 }, ...policies },
    },
    runtime,
  );
  return { guard, runtime };
}

async function errorOf(promise: Promise<unknown>): Promise<InfraError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isInfraError(error), `not an InfraError: ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

async function reasonOf(promise: Promise<unknown>): Promise<ErrorReason> {
  return (await errorOf(promise)).reason;
}

const hang = (ctx: OperationContext): Promise<never> =>
  new Promise((_, reject) =>
    ctx.signal.addEventListener('abort', () => reject(new Error('driver saw abort'))),
  );

describe('guard', () => {
  it('cuts an operation at its deadline, aborts its signal and reports timeout', async () => {
    const { guard } = createGuard({ timeoutMs: 100, retry: { maxAttempts: 1 } });
    let signal: AbortSignal | undefined;
    const started = performance.now();
    const reason = await reasonOf(
      guard.run('read', undefined, (ctx) => {
        signal = ctx.signal;
        return new Promise(() => undefined);
      }),
    );
    const elapsed = performance.now() - started;
    assert.equal(reason, 'timeout');
    // Cut at its own deadline, not at the runtime's 60 s or never; the slack is for a loaded
    // machine, where a timer can fire hundreds of ms late.
    assert.ok(elapsed >= 95 && elapsed < 100 + 2_000, `took ${elapsed} ms`);
    assert.equal(signal?.aborted, true);
  });

  it('honours a per-call timeout and the caller’s AbortSignal', async () => {
    const { guard } = createGuard({ timeoutMs: 10_000, retry: { maxAttempts: 1 } });
    assert.equal(await reasonOf(guard.run('read', { timeoutMs: 30 }, hang)), 'timeout');
    const controller = new AbortController();
    const pending = guard.run('read', { signal: controller.signal }, hang);
    controller.abort(new Error('caller gave up'));
    await assert.rejects(pending, /caller gave up/);
  });

  it('retries an idempotent operation on a retryable error, then succeeds', async () => {
    const { guard, runtime } = createGuard({ retry: { maxAttempts: 3 } });
    let calls = 0;
    const value = await guard.run('read', undefined, () =>
      ++calls < 3 ? Promise.reject(new Error('down')) : Promise.resolve('ok'),
    );
    assert.equal(value, 'ok');
    assert.equal(calls, 3);
    const metrics = await runtime.registry.metrics();
    assert.match(metrics, /berth_operation_retries_total\{component="test:fake",operation="read"\} 2/);
  });

  it('does not retry a non-idempotent operation or a non-retryable error', async () => {
    const { guard } = createGuard({ retry: { maxAttempts: 5 } });
    let appends = 0;
    assert.equal(
      await reasonOf(guard.run('append', undefined, () => (appends++, Promise.reject(new Error('down'))))),
      'unavailable',
    );
    assert.equal(appends, 1);
    let reads = 0;
    assert.equal(
      await reasonOf(guard.run('read', undefined, () => (reads++, Promise.reject(new Error('bug'))))),
      'internal',
    );
    assert.equal(reads, 1);
  });

  it('waits at least retryAfterMs before retrying', async () => {
    const { guard } = createGuard({ retry: { maxAttempts: 2 } });
    const times: number[] = [];
    await guard.run('read', undefined, () => {
      times.push(performance.now());
      return times.length === 1
        ? Promise.reject(new InfraError('rate_limited', 'slow down', { retryAfterMs: 120 }))
        : Promise.resolve(1);
    });
    assert.equal(times.length, 2);
    assert.ok(times[1]! - times[0]! >= 115, `retried after ${times[1]! - times[0]!} ms`);
  });

  it('opens the circuit after consecutive failures, fails fast, and closes after a good trial', async (t) => {
    // The breaker reads Date.now: a mocked clock keeps the circuit open for as long as the test
    // says, however slow the machine, and half-opens it exactly at halfOpenAfterMs.
    t.mock.timers.enable({ apis: ['Date'] });
    const { guard, runtime } = createGuard({
      retry: { maxAttempts: 1 },
      breaker: { consecutiveFailures: 3, halfOpenAfterMs: 100 },
    });
    let calls = 0;
    const failing = (): Promise<never> => (calls++, Promise.reject(new Error('down')));
    for (let i = 0; i < 3; i++)
      assert.equal(await reasonOf(guard.run('read', undefined, failing)), 'unavailable');
    assert.equal(guard.circuit, 'open');
    assert.equal(await reasonOf(guard.run('read', undefined, failing)), 'circuit_open');
    assert.equal(calls, 3, 'an open circuit must not call the adapter');
    const health = await guard.health(() => Promise.resolve({ status: 'up' }));
    assert.equal(health.status, 'degraded');
    assert.equal(health.details?.circuit, 'open');
    assert.match(await runtime.registry.metrics(), /berth_circuit_breaker_state\{component="test:fake"\} 2/);
    t.mock.timers.tick(99);
    assert.equal(await reasonOf(guard.run('read', undefined, failing)), 'circuit_open');
    assert.equal(calls, 3, 'the circuit stays open until halfOpenAfterMs');
    t.mock.timers.tick(1);
    assert.equal(await guard.run('read', undefined, () => Promise.resolve('back')), 'back');
    assert.equal(guard.circuit, 'closed');
  });

  it('does not count answers such as not_found or validation as breaker failures', async () => {
    const { guard } = createGuard({ retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 2 } });
    for (let i = 0; i < 5; i++) {
      await reasonOf(
        guard.run('read', undefined, () => Promise.reject(new InfraError('not_found', 'no such key'))),
      );
      await reasonOf(
        guard.run('read', undefined, () => Promise.reject(new InfraError('validation', 'bad key'))),
      );
    }
    assert.equal(guard.circuit, 'closed');
  });

  it('records durations by operation and error type', async () => {
    const { guard, runtime } = createGuard({ retry: { maxAttempts: 1 } });
    await guard.run('read', undefined, () => Promise.resolve(1));
    await reasonOf(guard.run('append', undefined, () => Promise.reject(new Error('down'))));
    const metrics = await runtime.registry.metrics();
    assert.match(
      metrics,
      /db_client_operation_duration_seconds_count\{db_system_name="fake",component="test:fake",db_operation_name="read"\} 1/,
    );
    assert.match(
      metrics,
      /db_client_operation_duration_seconds_count\{db_system_name="fake",component="test:fake",db_operation_name="append",error_type="unavailable"\} 1/,
    );
  });

  it('bounds a hanging health probe and never throws from health', async () => {
    const { guard } = createGuard({ healthTimeoutMs: 80 });
    const started = performance.now();
    const hung = await guard.health(() => new Promise(() => undefined));
    assert.equal(hung.status, 'down');
    // Its own 80 ms, not the runtime's 60 s; slack for a loaded machine.
    assert.ok(performance.now() - started < 80 + 2_000, `took ${performance.now() - started} ms`);
    const thrown = await guard.health(() => Promise.reject(new Error('down')));
    assert.equal(thrown.status, 'down');
    assert.match(thrown.error ?? '', /down/);
  });

  it('rejects with closed after close, and close is idempotent', async () => {
    const { guard } = createGuard();
    let closes = 0;
    const closeAdapter = (): Promise<void> => {
      closes++;
      return Promise.resolve();
    };
    await Promise.all([guard.close(closeAdapter), guard.close(closeAdapter)]);
    assert.equal(closes, 1);
    assert.equal(await reasonOf(guard.run('read', undefined, () => Promise.resolve(1))), 'closed');
  });
});

describe('guard: a budget per call across its retries', () => {
  // Backoff of a few ms, so that what a test measures is deadlines and budgets.
  const quickRetries = (maxAttempts: number) => ({ maxAttempts, initialDelayMs: 1, maxDelayMs: 5 });

  /** Runs `read` on an adapter that hangs until aborted; returns the error, the attempts and the time. */
  async function hungCall(guard: Guard<Op>, options?: Parameters<Guard<Op>['run']>[1]) {
    const signals: AbortSignal[] = [];
    const started = performance.now();
    const error = await errorOf(
      guard.run('read', options, (ctx) => {
        signals.push(ctx.signal);
        return hang(ctx);
      }),
    );
    return { error, signals, elapsedMs: performance.now() - started };
  }

  it('stops retrying a hung adapter when the budget runs out, cutting the last attempt to what is left', async () => {
    const { guard } = createGuard({ timeoutMs: 300, totalTimeoutMs: 500, retry: quickRetries(5) });
    const { error, signals, elapsedMs } = await hungCall(guard);
    assert.equal(error.reason, 'timeout');
    assert.match(error.message, /budget of 500 ms/);
    // A first attempt cut at its own 300 ms, a second at the 200 ms left: not five of 300 ms.
    assert.equal(signals.length, 2, `${signals.length} attempts`);
    assert.ok(
      signals.every((signal) => signal.aborted),
      'every attempt was aborted',
    );
    // Slack for a loaded machine; five attempts of 300 ms would take 1.5 s.
    assert.ok(elapsedMs >= 495 && elapsedMs < 500 + 250, `took ${elapsedMs} ms`);
  });

  it('takes a budget per call, shorter than one attempt’s deadline', async () => {
    const { guard } = createGuard({ timeoutMs: 10_000, retry: quickRetries(3) });
    const { error, signals, elapsedMs } = await hungCall(guard, { totalTimeoutMs: 200 });
    assert.equal(error.reason, 'timeout');
    assert.match(error.message, /budget of 200 ms/);
    assert.equal(signals.length, 1);
    assert.ok(elapsedMs >= 195 && elapsedMs < 200 + 250, `took ${elapsedMs} ms`);
  });

  it('defaults the budget to one attempt’s deadline: a hang is not retried, quick failures are', async () => {
    const { guard } = createGuard({ timeoutMs: 200, retry: quickRetries(3) });
    const { error, signals, elapsedMs } = await hungCall(guard);
    assert.equal(error.reason, 'timeout');
    assert.equal(signals.length, 1, `${signals.length} attempts`);
    assert.ok(elapsedMs >= 195 && elapsedMs < 200 + 250, `took ${elapsedMs} ms`);

    let calls = 0;
    const value = await guard.run('read', undefined, () =>
      ++calls < 3 ? Promise.reject(new Error('down')) : Promise.resolve('ok'),
    );
    assert.deepEqual([value, calls], ['ok', 3]);
  });

  it('does not start a retry whose backoff would pass the budget', async () => {
    const { guard, runtime } = createGuard({ totalTimeoutMs: 300, retry: quickRetries(3) });
    let calls = 0;
    const started = performance.now();
    const error = await errorOf(
      guard.run('read', undefined, () => {
        calls++;
        return Promise.reject(new InfraError('rate_limited', 'slow down', { retryAfterMs: 1_000 }));
      }),
    );
    const elapsedMs = performance.now() - started;
    // The failure itself, at once: waiting 1 s to retry would break the 300 ms budget.
    assert.equal(error.reason, 'rate_limited');
    assert.equal(calls, 1);
    assert.ok(elapsedMs < 250, `took ${elapsedMs} ms`);
    assert.doesNotMatch(await runtime.registry.metrics(), /berth_operation_retries_total\{/);
  });

  it('gives a per-call timeoutMs longer than the budget one whole attempt, as before budgets', async () => {
    const { guard } = createGuard({ timeoutMs: 100, retry: quickRetries(3) });
    const value = await guard.run('read', { timeoutMs: 2_000 }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 250));
      return 'slow but within its own deadline';
    });
    assert.equal(value, 'slow but within its own deadline');
  });

  it('rejects a bad totalTimeoutMs policy with a config error', () => {
    assert.throws(
      () => policyOverridesSchema.parse({ totalTimeoutMs: 0 }),
      (error: unknown) => error instanceof Error && /totalTimeoutMs/.test(JSON.stringify(error)),
    );
    assert.deepEqual(policyOverridesSchema.parse({ totalTimeoutMs: 1_500 }), { totalTimeoutMs: 1_500 });
  });
});
