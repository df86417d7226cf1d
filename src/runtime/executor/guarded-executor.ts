import { availableParallelism, constants as osConstants } from 'node:os';
import { basename } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { HealthResult, OperationContext } from '../../ports/component.ts';
import {
  CommandFailedError,
  executorOperations,
  type CommandRequest,
  type Executor,
  type ExecutorAdapter,
  type ExecutorOperation,
  type ExecutorProcess,
  type ExitResult,
  type OutputEncoding,
  type OutputOf,
  type RunOptions,
  type RunResult,
  type SpawnOptions,
  type StartedCommand,
} from '../../ports/executor.ts';
import { runCallSchema, spawnCallSchema } from './call-schemas.ts';
import { parseInput } from '../options/validate.ts';
import { ConcurrencyLimit } from '../guard/concurrency-limit.ts';
import { Guard, type GuardedOptions, type GuardedPort } from '../guard/guard.ts';
import { HeadTailBuffer } from './head-tail-buffer.ts';
import type { Runtime } from '../runtime.ts';
import { attributes, executorRunDuration } from '../telemetry/semconv.ts';

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
const defaultKillGraceMs = 5_000;
const defaultMaxOutputBytes = 10 * 1024 * 1024;
// Longer timers overflow to 1 ms in Node.
const maxTimerMs = 2_147_483_647;
// Guard's deadline lies past the command's own timeout and SIGKILL, so guard abandons only a
// process that even SIGKILL does not end; the command's timeout is the deadline that kills.
const guardSlackMs = 1_000;
const noop = (): undefined => undefined;

interface PreparedCall {
  operation: ExecutorOperation;
  request: CommandRequest;
  /** The executable's base name: safe for logs and metric labels, unlike the arguments. */
  name: string;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  reject: boolean;
  input: string | Uint8Array | undefined;
  maxOutputBytes: number | undefined;
  encoding: OutputEncoding | undefined;
}

type Cut = 'timeout' | 'aborted' | 'closed';

/** The deadline, abort and close of one started command: each terminates its process group. */
class Supervision {
  cut: Cut | undefined = undefined;
  /** Resolves when the command is cut short. */
  readonly whenCut: Promise<void>;
  #onCut: () => void = noop;
  readonly #child: StartedCommand;
  readonly #ctx: OperationContext;
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #onAbort = (): void => this.terminate('aborted');

  constructor(child: StartedCommand, timeoutMs: number, ctx: OperationContext, closed: boolean) {
    this.#child = child;
    this.#ctx = ctx;
    this.whenCut = new Promise((resolve) => (this.#onCut = resolve));
    this.#timer = Number.isFinite(timeoutMs)
      ? setTimeout(() => this.terminate('timeout'), timeoutMs)
      : undefined;
    if (closed) this.terminate('closed');
    else if (ctx.signal.aborted) this.terminate('aborted');
    else ctx.signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  terminate(cut: Cut): void {
    this.cut ??= cut;
    this.#onCut();
    this.#child.terminate();
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#ctx.signal.removeEventListener('abort', this.#onAbort);
  }
}

function collect(stream: Readable | null, maxBytes: number): { output: HeadTailBuffer; done: Promise<void> } {
  const output = new HeadTailBuffer(maxBytes);
  if (stream === null) return { output, done: Promise.resolve() };
  const done = new Promise<void>((resolve) => {
    stream.on('data', (chunk: Buffer) => output.write(chunk));
    stream.once('end', resolve);
    // A stream destroyed after SIGKILL closes without ending; an error keeps what was read.
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
  return { output, done };
}

// A command that exits without reading stdin makes the write fail with EPIPE: not an error of the call.
function ignoreWriteErrors(stdin: Writable | null): void {
  stdin?.on('error', noop);
}

function outcomeOf(result: ExitResult | undefined): string {
  if (result === undefined) return 'error';
  if (result.exitCode === 0) return 'success';
  return result.signal === null ? 'exit_nonzero' : 'signal';
}

function describeExit(result: ExitResult): string {
  return result.signal === null ? `exited with code ${result.exitCode}` : `was killed by ${result.signal}`;
}

function environment(
  inherit: readonly string[],
  env: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const entries: [string, string][] = [];
  for (const name of inherit) {
    const value = process.env[name];
    if (value !== undefined) entries.push([name, value]);
  }
  // fromEntries defines own properties, so a variable named __proto__ stays a variable.
  return Object.fromEntries([...entries, ...Object.entries(env ?? {})]);
}

const executorPort: GuardedPort<ExecutorOperation> = {
  port: 'executor',
  idPrefix: 'executor',
  operations: executorOperations,
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
  const guard = Guard.forAdapter(executorPort, adapter, options, runtime);
  const limit = new ConcurrencyLimit(
    options.concurrency ?? availableParallelism(),
    options.maxQueued ?? defaultMaxQueued,
  );
  const supervisions = new Set<Supervision>();
  const attempts = new Set<Promise<unknown>>();

  function prepare(
    operation: ExecutorOperation,
    schema: typeof runCallSchema | typeof spawnCallSchema,
    command: unknown,
    args: unknown,
    callOptions: unknown,
  ): PreparedCall {
    const call = parseInput(schema, { command, args: args ?? [], options: callOptions ?? {} }, (message) =>
      guard.error('validation', operation, message),
    );
    const { options: opts } = call;
    const shell = opts.shell ?? false;
    const inherited = 'stdio' in opts && opts.stdio === 'inherit';
    const input = 'input' in opts ? opts.input : undefined;
    return {
      operation,
      input,
      maxOutputBytes: 'maxOutputBytes' in opts ? opts.maxOutputBytes : undefined,
      encoding: 'encoding' in opts ? opts.encoding : undefined,
      name: shell ? 'sh' : basename(call.command).slice(0, 64),
      timeoutMs: opts.timeoutMs ?? guard.policies.timeoutMs,
      signal: opts.signal,
      reject: opts.reject ?? false,
      request: {
        command: call.command,
        args: call.args,
        cwd: opts.cwd,
        env: environment(opts.inheritEnv ?? options.inheritEnv ?? [], opts.env),
        shell,
        stdin: inherited ? 'inherit' : operation === 'spawn' || input !== undefined ? 'pipe' : 'ignore',
        output: inherited ? 'inherit' : 'pipe',
        killGraceMs: opts.killGraceMs ?? options.killGraceMs ?? defaultKillGraceMs,
      },
    };
  }

  function failIfRejecting<R extends ExitResult>(call: PreparedCall): ((result: R) => R) | undefined {
    if (!call.reject) return undefined;
    return (result) => {
      if (result.exitCode === 0) return result;
      const message = `${call.name} ${describeExit(result)}`;
      throw guard.error('internal', call.operation, message, {
        retryable: false,
        cause: new CommandFailedError(message, result),
      });
    };
  }

  // Throws when the command was cut short; what it produced until then is not a result.
  function throwIfCut(call: PreparedCall, supervision: Supervision, ctx: OperationContext): void {
    if (supervision.cut === 'timeout') {
      throw guard.error('timeout', call.operation, `${call.name} timed out after ${call.timeoutMs} ms`);
    }
    if (supervision.cut === 'closed') {
      throw guard.error('closed', call.operation, `${call.name} was terminated: the executor closed`);
    }
    if (supervision.cut === 'aborted') throw ctx.signal.reason;
  }

  async function supervised<R>(
    call: PreparedCall,
    ctx: OperationContext,
    body: (child: StartedCommand, supervision: Supervision, started: number) => Promise<R>,
  ): Promise<R> {
    const child = await adapter.start(call.request, ctx);
    const started = performance.now();
    const supervision = new Supervision(child, call.timeoutMs, ctx, guard.closed);
    supervisions.add(supervision);
    guard.logger.debug({ operation: call.operation, command: call.name, pid: child.pid }, 'command started');
    try {
      const result = await body(child, supervision, started);
      throwIfCut(call, supervision, ctx);
      return result;
    } finally {
      supervision.dispose();
      supervisions.delete(supervision);
    }
  }

  async function guarded<R extends ExitResult, T>(
    call: PreparedCall,
    body: (ctx: OperationContext) => Promise<R>,
    map: ((result: R) => T) | undefined,
  ): Promise<T> {
    if (guard.closed) throw guard.error('closed', call.operation, 'component is closed');
    const slot = limit.acquire(call.signal);
    if (slot === undefined) {
      throw guard.error('rate_limited', call.operation, `${limit.maxQueued} commands are already queued`);
    }
    try {
      await slot;
    } catch (error) {
      if (guard.closed) throw guard.error('closed', call.operation, 'component is closed');
      throw error;
    }
    // Set by guard when it calls the adapter, which it skips when closed, open or aborted.
    const started: { attempt?: Promise<R> } = {};
    const guardTimeoutMs = Number.isFinite(call.timeoutMs)
      ? Math.min(call.timeoutMs + call.request.killGraceMs + guardSlackMs, maxTimerMs)
      : maxTimerMs;
    const result = guard.run(
      call.operation,
      { timeoutMs: guardTimeoutMs, ...(call.signal === undefined ? {} : { signal: call.signal }) },
      (ctx) => {
        const attempt = body(ctx);
        started.attempt = attempt;
        attempts.add(attempt);
        return attempt;
      },
      map,
      (value) => ({ [attributes.processExecutableName]: call.name, [attributes.outcome]: outcomeOf(value) }),
    );
    // The slot stays taken until the process tree is gone, even when guard gave up first.
    const release = (): void => {
      if (started.attempt !== undefined) attempts.delete(started.attempt);
      limit.release();
    };
    void (started.attempt ?? result).then(release, release);
    try {
      return await result;
    } catch (error) {
      // Guard rejects on the caller's abort at once; the call settles once the process tree is gone.
      if (call.signal?.aborted) await started.attempt?.catch(noop);
      throw error;
    }
  }

  function run<E extends OutputEncoding = 'utf8'>(
    command: string,
    args?: readonly string[],
    runOptions?: RunOptions<E>,
  ): Promise<RunResult<OutputOf<E>>> {
    try {
      const call = prepare('run', runCallSchema, command, args, runOptions);
      const maxBytes = call.maxOutputBytes ?? options.maxOutputBytes ?? defaultMaxOutputBytes;
      const asBuffer = call.encoding === 'buffer';
      const decode = (output: HeadTailBuffer): OutputOf<E> =>
        (asBuffer ? output.bytes() : output.bytes().toString('utf8')) as OutputOf<E>;
      return guarded<RunResult<OutputOf<E>>, RunResult<OutputOf<E>>>(
        call,
        (ctx) =>
          supervised(call, ctx, async (child, supervision, started) => {
            const stdout = collect(child.stdout, maxBytes);
            const stderr = collect(child.stderr, maxBytes);
            ignoreWriteErrors(child.stdin);
            child.stdin?.end(call.input);
            const exit = await child.exited;
            // A process that left the group (setsid) may hold the pipes open: once cut, stop waiting for it.
            await Promise.race([Promise.all([stdout.done, stderr.done]), supervision.whenCut]);
            if (supervision.cut !== undefined) {
              child.stdout?.destroy();
              child.stderr?.destroy();
            }
            return {
              exitCode: exit.exitCode,
              signal: exit.signal,
              durationMs: performance.now() - started,
              stdout: decode(stdout.output),
              stderr: decode(stderr.output),
              truncated: stdout.output.truncated || stderr.output.truncated,
            };
          }),
        failIfRejecting(call),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  function spawn(
    command: string,
    args?: readonly string[],
    spawnOptions?: SpawnOptions,
  ): Promise<ExecutorProcess> {
    let call: PreparedCall;
    try {
      call = prepare('spawn', spawnCallSchema, command, args, spawnOptions);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<ExecutorProcess>((resolve, reject) => {
      let handle: ExecutorProcess | undefined;
      const finished: Promise<ExitResult> = guarded(
        call,
        (ctx) =>
          supervised(call, ctx, async (child, _supervision, started) => {
            ignoreWriteErrors(child.stdin);
            handle = {
              pid: child.pid,
              stdin: child.stdin,
              stdout: child.stdout,
              stderr: child.stderr,
              wait: () => finished,
              kill: (signal?: NodeJS.Signals) => {
                if (signal === undefined) return child.terminate();
                if (!(signal in osConstants.signals)) {
                  throw guard.invalid('spawn', 'signal', 'must be a signal name, e.g. SIGINT');
                }
                child.signal(signal);
              },
            };
            resolve(handle);
            const exit = await child.exited;
            return { exitCode: exit.exitCode, signal: exit.signal, durationMs: performance.now() - started };
          }),
        failIfRejecting(call),
      );
      finished.catch((error: unknown) => {
        if (handle === undefined) reject(error);
      });
    });
  }

  const executor: Executor = {
    id: guard.id,
    run,
    spawn,
    health(signal?: AbortSignal): Promise<HealthResult> {
      return guard.health(async (probeSignal) => {
        const result = await adapter.probe(probeSignal);
        return { ...result, details: { ...result.details, running: limit.running, queued: limit.queued } };
      }, signal);
    },
    close(): Promise<void> {
      return guard.close(async () => {
        limit.rejectQueued(guard.error('closed', 'close', 'component is closed'));
        for (const supervision of supervisions) supervision.terminate('closed');
        await Promise.allSettled([...attempts]);
        await adapter.close();
      });
    },
    [Symbol.asyncDispose](): Promise<void> {
      return executor.close();
    },
  };
  return executor;
}
