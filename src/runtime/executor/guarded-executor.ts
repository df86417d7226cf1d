import { availableParallelism } from 'node:os';
import type { HealthResult } from '../../ports/component.ts';
import {
  executorPort as executorPortDefinition,
  type Executor,
  type ExecutorAdapter,
  type ExecutorOperation,
  type ExecutorProcess,
  type OutputEncoding,
  type OutputOf,
  type RunOptions,
  type RunResult,
  type SpawnOptions,
} from '../../ports/executor.ts';
import { Guard, type GuardedOptions, type GuardedPort } from '../guard/guard.ts';
import { GuardedComponent } from '../guard/guarded-component.ts';
import { rejecting } from '../guard/rejecting.ts';
import type { Runtime } from '../runtime.ts';
import { executorRunDuration } from '../telemetry/semconv.ts';
import { runCallSchema, spawnCallSchema } from './call-schemas.ts';
import { CommandRunner } from './command-runner.ts';
import { prepareCall, type CallArguments, type PreparedCall } from './prepared-call.ts';
import { runCommand } from './run-command.ts';
import { spawnCommand } from './spawn-command.ts';

export interface GuardedExecutorOptions extends GuardedOptions {
  /** Commands running at once; default the number of CPUs. */
  concurrency?: number | undefined;
  /** Commands waiting for a slot before calls fail with `rate_limited`; default 256. */
  maxQueued?: number | undefined;
  killGraceMs?: number | undefined;
  maxOutputBytes?: number | undefined;
  inheritEnv?: readonly string[] | undefined;
}

const defaultMaxQueued = 256;
const defaultMaxOutputBytes = 10 * 1024 * 1024;

const executorPort: GuardedPort<ExecutorOperation> = {
  port: executorPortDefinition.name,
  idPrefix: executorPortDefinition.idPrefix,
  operations: executorPortDefinition.operations,
  metrics: executorRunDuration,
};

/**
 * Builds the `Executor` port around a backend once for every adapter: validation before any
 * process starts, the environment allow-list, the command's timeout and abort, bounded output
 * capture, the concurrency limit and its queue, and `guard()` for metrics, logs and the breaker.
 */
export function guardExecutor(
  adapter: ExecutorAdapter,
  options: GuardedExecutorOptions,
  runtime: Runtime,
): Executor {
  return new GuardedExecutor(Guard.forAdapter(executorPort, adapter, options, runtime), adapter, options);
}

class GuardedExecutor extends GuardedComponent<ExecutorOperation> implements Executor {
  readonly #guard: Guard<ExecutorOperation>;
  readonly #adapter: ExecutorAdapter;
  readonly #options: GuardedExecutorOptions;
  readonly #runner: CommandRunner;

  constructor(guard: Guard<ExecutorOperation>, adapter: ExecutorAdapter, options: GuardedExecutorOptions) {
    super(guard);
    this.#guard = guard;
    this.#adapter = adapter;
    this.#options = options;
    const concurrency = options.concurrency ?? availableParallelism();
    this.#runner = new CommandRunner(guard, adapter, concurrency, options.maxQueued ?? defaultMaxQueued);
  }

  readonly run = <E extends OutputEncoding = 'utf8'>(
    command: string,
    args?: readonly string[],
    runOptions?: RunOptions<E>,
  ): Promise<RunResult<OutputOf<E>>> =>
    rejecting(() => {
      const call = this.#prepare('run', { command, args, options: runOptions });
      const maxBytes = call.maxOutputBytes ?? this.#options.maxOutputBytes ?? defaultMaxOutputBytes;
      return runCommand<E>(this.#runner, call, maxBytes);
    });

  readonly spawn = (
    command: string,
    args?: readonly string[],
    spawnOptions?: SpawnOptions,
  ): Promise<ExecutorProcess> =>
    rejecting(() =>
      spawnCommand(this.#runner, this.#prepare('spawn', { command, args, options: spawnOptions })),
    );

  protected override async probe(signal: AbortSignal): Promise<HealthResult> {
    const result = await this.#adapter.probe(signal);
    return { ...result, details: { ...result.details, ...this.#runner.status } };
  }

  protected override async closeAdapter(): Promise<void> {
    await this.#runner.terminateAll();
    await this.#adapter.close();
  }

  #prepare(operation: ExecutorOperation, given: CallArguments): PreparedCall {
    const schema = operation === 'run' ? runCallSchema : spawnCallSchema;
    const defaults = {
      timeoutMs: this.#guard.policies.timeoutMs,
      killGraceMs: this.#options.killGraceMs,
      inheritEnv: this.#options.inheritEnv,
    };
    return prepareCall(operation, schema, given, defaults, (message) =>
      this.#guard.error('validation', operation, message),
    );
  }
}
