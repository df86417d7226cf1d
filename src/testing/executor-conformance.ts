import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { isInfraError } from '../ports/errors.ts';
import { isCommandFailedError, type Executor, type ExecutorProcess } from '../ports/executor.ts';
import { executorConformanceScript, printArgsScript, programs } from './executor-conformance-script.ts';
import { rejectsWith } from './infra-assertions.ts';
import { nodeTestApi, type TestApi } from './test-api.ts';

export { executorConformanceScript };

export interface ExecutorFeatures {
  /** Commands are OS processes: a pid answers `kill(pid, 0)` while its command runs, and not after. */
  realProcesses: boolean;
}

/** Options the suite passes to `create` for the cases that need them. */
export interface ExecutorTestOptions {
  concurrency?: number;
  maxQueued?: number;
}

export interface ExecutorConformanceOptions {
  name: string;
  create: (options: ExecutorTestOptions) => Executor | Promise<Executor>;
  features: ExecutorFeatures;
  /** The Node binary the suite's commands run with; default this process's. */
  node?: string;
  test?: TestApi;
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The behaviour every `Executor` adapter must show, run against memory and every real backend. */
export function executorConformance(options: ExecutorConformanceOptions): void {
  const { describe, it } = options.test ?? nodeTestApi;
  const node = options.node ?? process.execPath;
  const program = (name: keyof typeof programs, ...args: string[]): [string, string[]] => [
    node,
    ['-e', programs[name], ...args],
  ];

  const withExecutor =
    (fn: (executor: Executor) => Promise<void>, testOptions: ExecutorTestOptions = {}) =>
    async (): Promise<void> => {
      const executor = await options.create(testOptions);
      try {
        await fn(executor);
      } finally {
        await executor.close();
      }
    };

  describe(`executor conformance: ${options.name}`, () => {
    it('has an id, reports up, closes idempotently; calls after close fail as closed', async () => {
      const executor = await options.create({});
      assert.ok(executor.id.length > 0);
      const health = await executor.health();
      assert.equal(health.status, 'up', health.error);
      assert.equal(typeof health.latencyMs, 'number');
      await executor.close();
      await executor.close();
      await rejectsWith(executor.run(...program('echoArgs')), 'closed');
      await rejectsWith(executor.spawn(...program('echoArgs')), 'closed');
      assert.equal((await executor.health()).status, 'down');
    });

    it(
      'runs a command and resolves with its exit, output and duration',
      withExecutor(async (executor) => {
        const result = await executor.run(...program('echoArgs', 'one', 'two'));
        assert.equal(result.exitCode, 0);
        assert.equal(result.signal, null);
        assert.equal(result.stdout, '["one","two"]');
        assert.equal(result.stderr, '');
        assert.equal(result.truncated, false);
        assert.ok(result.durationMs >= 0);
      }),
    );

    it(
      'passes arguments verbatim, without a shell',
      withExecutor(async (executor) => {
        const args = [
          '"; rm -rf /"',
          '; rm -rf /',
          '$(id)',
          '`id`',
          "it's",
          '  spaced  ',
          '*',
          '',
          '$HOME',
          'ü\n',
        ];
        const result = await executor.run(...program('echoArgs', ...args));
        assert.deepEqual(JSON.parse(result.stdout), args);
      }),
    );

    it(
      'with shell: true runs a script whose arguments are positional parameters, never script text',
      withExecutor(async (executor) => {
        const result = await executor.run(printArgsScript, ['$(id)', 'a b', '`id`'], { shell: true });
        assert.equal(result.stdout, '$(id)\na b\n`id`\n');
      }),
    );

    it(
      'writes input to stdin; stdout and stderr are captured apart, as strings or Buffers',
      withExecutor(async (executor) => {
        const echoed = await executor.run(...program('cat'), { input: 'from stdin' });
        assert.equal(echoed.stdout, 'from stdin');
        const bytes = await executor.run(...program('cat'), {
          input: new Uint8Array([0, 1, 255]),
          encoding: 'buffer',
        });
        assert.ok(Buffer.isBuffer(bytes.stdout));
        assert.deepEqual([...bytes.stdout], [0, 1, 255]);
        const failing = await executor.run(...program('exit', '0'));
        assert.equal(failing.stdout, '');
        assert.equal(failing.stderr, 'exiting 0');
      }),
    );

    it(
      'returns a non-zero exit as a result; reject: true makes it an InfraError carrying the result',
      withExecutor(async (executor) => {
        const result = await executor.run(...program('exit', '3'));
        assert.equal(result.exitCode, 3);
        assert.equal(result.stderr, 'exiting 3');
        const error = await rejectsWith(executor.run(...program('exit', '4'), { reject: true }), 'internal');
        assert.ok(isInfraError(error));
        assert.match(error.message, /exited with code 4/);
        assert.ok(isCommandFailedError(error.cause));
        assert.equal(error.cause.result.exitCode, 4);
        assert.equal((error.cause.result as { stderr?: unknown }).stderr, 'exiting 4');
      }),
    );

    it(
      'gives a command only the environment it is given, plus the parent variables allowed',
      withExecutor(async (executor) => {
        const name = `BERTH_CONFORMANCE_SECRET_${randomUUID().slice(0, 8)}`;
        const secret = `secret-${randomUUID()}`;
        process.env[name] = secret;
        try {
          const plain = await executor.run(...program('env'), { env: { GIVEN: 'yes' } });
          assert.deepEqual(JSON.parse(plain.stdout), { GIVEN: 'yes' });
          const allowed = await executor.run(...program('env'), {
            env: { GIVEN: 'yes' },
            inheritEnv: [name],
          });
          assert.deepEqual(JSON.parse(allowed.stdout), { GIVEN: 'yes', [name]: secret });
          const overridden = await executor.run(...program('env'), {
            env: { [name]: 'mine' },
            inheritEnv: [name],
          });
          assert.deepEqual(JSON.parse(overridden.stdout), { [name]: 'mine' });
        } finally {
          delete process.env[name];
        }
      }),
    );

    it(
      'runs in the working directory asked for',
      withExecutor(async (executor) => {
        const dir = realpathSync(tmpdir());
        assert.equal((await executor.run(...program('cwd'), { cwd: dir })).stdout, dir);
      }),
    );

    it(
      'cuts a command at its timeout with a timeout error, not before',
      withExecutor(async (executor) => {
        const started = performance.now();
        const error = await rejectsWith(
          executor.run(...program('hang'), { timeoutMs: 300, killGraceMs: 1_000 }),
          'timeout',
        );
        const elapsed = performance.now() - started;
        assert.ok(elapsed >= 290, `cut after ${elapsed} ms`);
        assert.ok(elapsed < 10_000, `cut after ${elapsed} ms`);
        assert.match((error as Error).message, /timed out after 300 ms/);
      }),
    );

    it(
      "aborts with the signal's reason, also when the signal is already aborted",
      withExecutor(async (executor) => {
        const controller = new AbortController();
        const running = executor.run(...program('hang'), { signal: controller.signal, timeoutMs: 30_000 });
        setTimeout(() => controller.abort(new Error('caller gave up')), 100);
        await assert.rejects(running, /caller gave up/);
        await assert.rejects(
          executor.run(...program('echoArgs'), { signal: AbortSignal.abort(new Error('too late')) }),
          /too late/,
        );
      }),
    );

    it(
      'keeps the head and tail of output beyond maxOutputBytes and marks it truncated',
      withExecutor(async (executor) => {
        const total = 1024 * 1024;
        const result = await executor.run(...program('flood', String(total)), { maxOutputBytes: 1_000 });
        assert.equal(result.truncated, true);
        assert.equal(result.stdout.length, 1_000);
        assert.ok(result.stdout.startsWith('HEADxxx'), result.stdout.slice(0, 10));
        assert.ok(result.stdout.endsWith('xxxTAIL'), result.stdout.slice(-10));
        const whole = await executor.run(...program('flood', '1000'), { maxOutputBytes: 1_000 });
        assert.equal(whole.truncated, false);
        assert.equal(whole.stdout.length, 1_000);
      }),
    );

    it(
      'rejects bad calls with validation',
      withExecutor(async (executor) => {
        const [command, args] = program('echoArgs');
        const bad: [string, unknown, unknown][] = [
          ['', [], {}],
          [command, 'not an array', {}],
          [command, ['nul\0byte'], {}],
          [command, args, { timeoutMs: -1 }],
          [command, args, { timeoutMs: 1.5 }],
          [command, args, { maxOutputBytes: 'lots' }],
          [command, args, { env: { GOOD: 'yes', BAD: 42 } }],
          [command, args, { env: { 'A=B': 'x' } }],
          [command, args, { shell: 'yes' }],
          [command, args, { timeout: 1_000 }],
          [command, args, { signal: 'abort' }],
        ];
        for (const [c, a, o] of bad) {
          await rejectsWith(executor.run(c, a as string[], o as object), 'validation');
        }
        await rejectsWith(executor.spawn(command, args, { stdio: 'ignore' } as object), 'validation');
      }),
    );

    it(
      'fails with not_found, naming the command, when it does not exist',
      withExecutor(async (executor) => {
        const missing = `berth-no-such-command-${randomUUID().slice(0, 8)}`;
        const error = await rejectsWith(executor.run(missing, ['--secret-arg']), 'not_found');
        assert.match((error as Error).message, new RegExp(missing));
        assert.doesNotMatch((error as Error).message, /--secret-arg/);
        await rejectsWith(executor.spawn(missing), 'not_found');
      }),
    );

    it(
      'spawns a command with streams: stdin in, stdout out, wait() for its exit',
      withExecutor(async (executor) => {
        const child = await executor.spawn(...program('cat'));
        assert.ok(child.pid > 0);
        const chunks: Buffer[] = [];
        child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
        child.stdin?.write('hello ');
        child.stdin?.end('spawn');
        const exit = await child.wait();
        assert.equal(exit.exitCode, 0);
        assert.equal(exit.signal, null);
        await waitUntil(() => Buffer.concat(chunks).toString() === 'hello spawn');
      }),
    );

    it(
      'kill() terminates a spawned command and wait() reports the signal; reject: true makes it an error',
      withExecutor(async (executor) => {
        const child = await executor.spawn(...program('hang'), { timeoutMs: 30_000 });
        child.kill();
        const exit = await child.wait();
        assert.equal(exit.exitCode, null);
        assert.equal(exit.signal, 'SIGTERM');
        child.kill();
        assert.throws(
          () => child.kill('SIGNOTHING' as NodeJS.Signals),
          (error: unknown) => isInfraError(error) && error.reason === 'validation',
        );
        const rejecting = await executor.spawn(...program('hang'), { timeoutMs: 30_000, reject: true });
        rejecting.kill('SIGKILL');
        await rejectsWith(rejecting.wait(), 'internal');
      }),
    );

    it(
      "with stdio: 'inherit' the command uses the parent's own streams, and the handle has none",
      withExecutor(async (executor) => {
        const child = await executor.spawn(...program('hang'), { stdio: 'inherit', timeoutMs: 30_000 });
        assert.deepEqual([child.stdin, child.stdout, child.stderr], [null, null, null]);
        child.kill('SIGINT');
        assert.equal((await child.wait()).signal, 'SIGINT');
      }),
    );

    it(
      'runs at most `concurrency` commands, queues up to `maxQueued`, and refuses more with rate_limited',
      withExecutor(
        async (executor) => {
          const first = await executor.spawn(...program('hang'), { timeoutMs: 30_000 });
          let secondStarted = false;
          const second = executor.spawn(...program('hang'), { timeoutMs: 30_000 }).then((child) => {
            secondStarted = true;
            return child;
          });
          await sleep(100);
          assert.equal(secondStarted, false, 'the second command must wait for a slot');
          const details = (await executor.health()).details;
          assert.equal(details?.running, 1);
          assert.equal(details?.queued, 1);
          await rejectsWith(executor.run(...program('echoArgs')), 'rate_limited');
          first.kill();
          await first.wait();
          const started = await second;
          started.kill();
          await started.wait();
          assert.equal((await executor.run(...program('echoArgs', 'free'))).stdout, '["free"]');
        },
        { concurrency: 1, maxQueued: 1 },
      ),
    );

    it('close() terminates running commands and rejects queued ones with closed', async () => {
      const executor = await options.create({ concurrency: 1, maxQueued: 5 });
      const running = executor.run(...program('hang'), { timeoutMs: Infinity });
      const queued = executor.run(...program('echoArgs'));
      const outcomes = [rejectsWith(running, 'closed'), rejectsWith(queued, 'closed')];
      await sleep(100);
      await executor.close();
      await Promise.all(outcomes);
    });

    it(
      options.features.realProcesses
        ? 'runs real processes: a pid is live while its command runs and gone after'
        : 'claims no real processes: a pid names no live process',
      withExecutor(async (executor) => {
        const child: ExecutorProcess = await executor.spawn(...program('hang'), { timeoutMs: 30_000 });
        assert.equal(pidExists(child.pid), options.features.realProcesses);
        child.kill();
        await child.wait();
        assert.equal(pidExists(child.pid), false);
      }),
    );
  });
}

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > timeoutMs) assert.fail('condition not met in time');
    await sleep(10);
  }
}
