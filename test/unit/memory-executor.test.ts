import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryExecutor } from '../../src/adapters/memory/index.ts';
import { ConfigError, isInfraError } from '../../src/ports/index.ts';
import { silentRuntime } from '../support/runtime.ts';

describe('memory executor', () => {
  it('answers with the first entry matching the command and arguments: exact, RegExp or predicate', async () => {
    const executor = createMemoryExecutor(
      {
        script: [
          { command: 'git', args: ['status'], result: { stdout: 'clean' } },
          { command: 'git', args: /^log /, result: { stdout: 'history' } },
          {
            command: /^conv/,
            args: (args) => args.includes('--fail'),
            result: { exitCode: 2, stderr: 'bad' },
          },
          {
            command: (command) => command.startsWith('conv'),
            result: (call) => ({ stdout: call.args.join('+') }),
          },
        ],
      },
      silentRuntime(),
    );
    assert.equal((await executor.run('git', ['status'])).stdout, 'clean');
    assert.equal((await executor.run('git', ['log', '-1'])).stdout, 'history');
    assert.equal((await executor.run('convert', ['--fail'])).exitCode, 2);
    assert.equal((await executor.run('convert', ['a', 'b'])).stdout, 'a+b');
    await assert.rejects(executor.run('git', ['push']), (error: unknown) => {
      assert.ok(isInfraError(error));
      assert.equal(error.reason, 'not_found');
      assert.match(error.message, /command not found: git/);
      return true;
    });
    await executor.close();
  });

  it('records every call with its environment and input, unknown commands included', async () => {
    process.env.BERTH_MEMORY_EXECUTOR_TEST = 'from parent';
    const executor = createMemoryExecutor(
      { script: [{ command: 'cat', result: async (_call, context) => ({ stdout: await context.input() }) }] },
      silentRuntime(),
    );
    try {
      await executor.run('cat', ['-'], {
        input: 'typed',
        cwd: '/srv',
        env: { LANG: 'C' },
        inheritEnv: ['BERTH_MEMORY_EXECUTOR_TEST'],
      });
      await assert.rejects(executor.run('missing'));
      assert.deepEqual(
        executor.calls.map((call) => ({ ...call, input: call.input?.toString() })),
        [
          {
            command: 'cat',
            args: ['-'],
            cwd: '/srv',
            env: { BERTH_MEMORY_EXECUTOR_TEST: 'from parent', LANG: 'C' },
            shell: false,
            input: 'typed',
          },
          { command: 'missing', args: [], cwd: undefined, env: {}, shell: false, input: undefined },
        ],
      );
    } finally {
      delete process.env.BERTH_MEMORY_EXECUTOR_TEST;
      await executor.close();
    }
  });

  it('scripts a death by signal and a delay', async () => {
    const executor = createMemoryExecutor(
      { script: [{ command: 'crash', result: { signal: 'SIGSEGV', delayMs: 20 } }] },
      silentRuntime(),
    );
    const result = await executor.run('crash');
    assert.equal(result.exitCode, null);
    assert.equal(result.signal, 'SIGSEGV');
    assert.ok(result.durationMs >= 15);
    await executor.close();
  });

  it('rejects a bad script with a ConfigError naming the entry', () => {
    assert.throws(
      () =>
        createMemoryExecutor(
          { script: [{ command: 42, result: { exitCode: 300 } }] } as never,
          silentRuntime(),
        ),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        const paths = error.issues.map((issue) => issue.path);
        assert.ok(paths.includes('script.0.command'), paths.join(', '));
        assert.ok(
          paths.some((path) => path.startsWith('script.0.result')),
          paths.join(', '),
        );
        return true;
      },
    );
  });
});
