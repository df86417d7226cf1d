import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Guard, semconv } from '../../src/runtime/index.ts';
import { InfraError } from '../../src/ports/index.ts';
import { silentRuntime } from '../support/runtime.ts';

describe('guard: the process family and per-call labels', () => {
  it('names the histogram after the executor, labels each call, and binds no empty series', async () => {
    const runtime = silentRuntime();
    const guard = new Guard<'run'>(
      {
        id: 'executor:fake',
        port: 'executor',
        system: 'fake',
        operations: { run: { idempotent: false } },
        classifyError: () => ({ reason: 'internal' }),
        metrics: semconv.executorRunDuration,
        policies: { retry: { maxAttempts: 1 } },
      },
      runtime,
    );
    const labels = (result: number | undefined) => ({
      process_executable_name: 'convert',
      outcome: result === undefined ? 'error' : result === 0 ? 'success' : 'exit_nonzero',
    });
    assert.doesNotMatch(await runtime.registry.metrics(), /berth_executor_run_duration_seconds_count/);
    await guard.run('run', undefined, () => Promise.resolve(0), undefined, labels);
    await guard.run('run', undefined, () => Promise.resolve(2), undefined, labels);
    await assert.rejects(
      guard.run('run', undefined, () => Promise.reject(new InfraError('timeout', 'slow')), undefined, labels),
    );
    const metrics = await runtime.registry.metrics();
    const base =
      'executor_system="fake",component="executor:fake",executor_operation="run",process_executable_name="convert"';
    assert.match(
      metrics,
      new RegExp(`berth_executor_run_duration_seconds_count\\{${base},outcome="success"\\} 1`),
    );
    assert.match(
      metrics,
      new RegExp(`berth_executor_run_duration_seconds_count\\{${base},outcome="exit_nonzero"\\} 1`),
    );
    assert.match(
      metrics,
      new RegExp(
        `berth_executor_run_duration_seconds_count\\{${base},outcome="error",error_type="timeout"\\} 1`,
      ),
    );
    assert.equal(metrics.match(/berth_executor_run_duration_seconds_count/g)?.length, 3);
  });
});
