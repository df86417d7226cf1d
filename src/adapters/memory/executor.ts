import { PassThrough, Writable } from 'node:stream';
import type { HealthResult } from '../../ports/component.ts';
import type { ErrorClassification } from '../../ports/errors.ts';
import type { CommandRequest, Executor, ExecutorAdapter, StartedCommand } from '../../ports/executor.ts';
import { parseOptions } from '../../runtime/options/validate.ts';
import { memoryExecutorOptionsSchema } from './options.ts';
import {
  type ExecutorCall,
  type MemoryExecutorOptions,
  type ScriptedCommand,
  type ScriptedResult,
} from '../../runtime/executor/scripted-types.ts';
import { guardExecutor } from '../../runtime/executor/guarded-executor.ts';
import { extendPort } from '../../runtime/extend-port.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';

// The script's types live with the options schema, below the adapters, where the executor suite can use them.
export type {
  ExecutorCall,
  MemoryExecutorOptions,
  ScriptedCommand,
  ScriptedContext,
  ScriptedResponder,
  ScriptedResult,
} from '../../runtime/executor/scripted-types.ts';

export interface MemoryExecutor extends Executor {
  /** Every command started, unknown ones included, in order. */
  readonly calls: readonly ExecutorCall[];
}

// Above Linux's largest pid (2^22), so a fake pid never names a real process.
let nextPid = 4_194_304;

function matches(entry: ScriptedCommand, command: string, args: readonly string[]): boolean {
  const c = entry.command;
  if (typeof c === 'string' ? c !== command : c instanceof RegExp ? !c.test(command) : !c(command)) {
    return false;
  }
  const a = entry.args;
  if (a === undefined) return true;
  if (a instanceof RegExp) return a.test(args.join(' '));
  if (typeof a === 'function') return a(args);
  return a.length === args.length && a.every((arg, i) => arg === args[i]);
}

/** A scripted process: it answers from the script, and ends when its result says or when killed. */
class MemoryCommand implements StartedCommand {
  readonly pid = ++nextPid;
  readonly stdin: Writable | null;
  readonly stdout: PassThrough | null;
  readonly stderr: PassThrough | null;
  readonly exited: Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>;
  readonly #killed = new AbortController();
  readonly #request: CommandRequest;
  #finish: (exit: { exitCode: number | null; signal: NodeJS.Signals | null }) => void = () => undefined;
  #done = false;
  #timer: NodeJS.Timeout | undefined = undefined;

  constructor(request: CommandRequest, call: ExecutorCall, result: ScriptedCommand['result']) {
    this.#request = request;
    const piped = request.output === 'pipe';
    this.stdout = piped ? new PassThrough() : null;
    this.stderr = piped ? new PassThrough() : null;
    const chunks: Buffer[] = [];
    let inputDone: (input: Buffer) => void = () => undefined;
    const input = new Promise<Buffer>((resolve) => (inputDone = resolve));
    if (request.stdin === 'pipe') {
      this.stdin = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          chunks.push(chunk);
          callback();
        },
        final(callback) {
          call.input = Buffer.concat(chunks);
          inputDone(call.input);
          callback();
        },
      });
    } else {
      this.stdin = null;
      inputDone(Buffer.alloc(0));
    }
    this.exited = new Promise((resolve, reject) => {
      this.#finish = resolve;
      Promise.resolve()
        .then(() =>
          typeof result === 'function'
            ? result(call, { input: () => input, signal: this.#killed.signal })
            : (result ?? {}),
        )
        .then((scripted) => this.#exitAfter(scripted), reject);
    });
  }

  #exitAfter(scripted: ScriptedResult): void {
    if (this.#done) return;
    const delayMs = scripted.delayMs ?? 0;
    if (delayMs === Infinity) return;
    // Always a later turn, so what the caller writes to stdin at start is read first.
    this.#timer = setTimeout(() => {
      this.#write(this.stdout, scripted.stdout, process.stdout);
      this.#write(this.stderr, scripted.stderr, process.stderr);
      this.#end(
        scripted.signal === undefined
          ? { exitCode: scripted.exitCode ?? 0, signal: null }
          : { exitCode: null, signal: scripted.signal },
      );
    }, delayMs);
  }

  #write(
    stream: PassThrough | null,
    data: string | Uint8Array | undefined,
    inherited: NodeJS.WriteStream,
  ): void {
    if (data === undefined || data.length === 0) return;
    if (stream !== null) stream.write(data);
    else if (this.#request.output === 'inherit') inherited.write(data);
  }

  #end(exit: { exitCode: number | null; signal: NodeJS.Signals | null }): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    this.stdout?.end();
    this.stderr?.end();
    if (this.stdin !== null && !this.stdin.writableFinished) this.stdin.destroy();
    this.#finish(exit);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.#done) return;
    this.#killed.abort();
    this.#end({ exitCode: null, signal });
  }

  terminate(): void {
    this.signal('SIGTERM');
  }
}

class MemoryExecutorAdapter implements ExecutorAdapter {
  readonly system = 'memory';
  readonly calls: ExecutorCall[] = [];
  readonly #script: readonly ScriptedCommand[];

  constructor(script: readonly ScriptedCommand[]) {
    this.#script = script;
  }

  start(request: CommandRequest): Promise<StartedCommand> {
    const call: ExecutorCall = {
      command: request.command,
      args: request.args,
      cwd: request.cwd,
      env: request.env,
      shell: request.shell,
      input: undefined,
    };
    this.calls.push(call);
    const entry = this.#script.find((candidate) => matches(candidate, request.command, request.args));
    if (entry === undefined) {
      const name = request.shell ? 'sh' : request.command;
      return Promise.reject(Object.assign(new Error(`command not found: ${name}`), { code: 'ENOENT' }));
    }
    return Promise.resolve(new MemoryCommand(request, call, entry.result));
  }

  probe(): Promise<HealthResult> {
    return Promise.resolve({ status: 'up', details: { scripted: this.#script.length } });
  }

  classifyError(error: unknown): ErrorClassification {
    return (error as { code?: unknown } | null)?.code === 'ENOENT'
      ? { reason: 'not_found' }
      : { reason: 'internal' };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * An executor that starts nothing: each call is answered by the first matching entry of
 * `script` and recorded in `calls`. Unknown commands fail with `not_found` like missing ones.
 */
export function createMemoryExecutor(
  options: MemoryExecutorOptions = {},
  runtime: Runtime = defaultRuntime(),
): MemoryExecutor {
  const { script, ...rest } = parseOptions(memoryExecutorOptionsSchema, options, 'memory executor options');
  const adapter = new MemoryExecutorAdapter(script as readonly ScriptedCommand[]);
  const executor = guardExecutor(adapter, rest, runtime);
  return extendPort(executor, {
    get calls(): readonly ExecutorCall[] {
      return adapter.calls;
    },
  });
}
