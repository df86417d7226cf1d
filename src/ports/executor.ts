import type { Readable, Writable } from 'node:stream';
import type {
  Component,
  HealthResult,
  OperationContext,
  OperationOptions,
  OperationSpecs,
  PortDefinition,
} from './component.ts';
import type { ErrorClassification } from './errors.ts';

export type OutputEncoding = 'utf8' | 'buffer';
/** What `run` returns as stdout and stderr for an `encoding`. */
export type OutputOf<E extends OutputEncoding> = E extends 'buffer' ? Buffer : string;

/** Options of `run` and `spawn`. */
export interface CommandOptions extends OperationOptions {
  /** Working directory of the command; default the parent's. */
  cwd?: string;
  /** The command's environment. Nothing of the parent's is passed unless named in `inheritEnv`. */
  env?: Readonly<Record<string, string>>;
  /** Names of parent environment variables the command inherits; `env` wins over them. */
  inheritEnv?: readonly string[];
  /**
   * The command's deadline, from its start: then its whole process group is terminated and
   * the call fails with `timeout`. `Infinity` for none; default the executor's `policies.timeoutMs`.
   */
  timeoutMs?: number;
  /** Aborting terminates the process group; the call rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Time between SIGTERM and SIGKILL when the process group is terminated. */
  killGraceMs?: number;
  /**
   * Runs `command` as a `/bin/sh -c` script; `args` become its positional parameters `$1`…,
   * never spliced into the script. Default false: no shell is involved.
   */
  shell?: boolean;
  /** A non-zero exit or a death by signal rejects with an `InfraError` instead of resolving. */
  reject?: boolean;
}

export interface RunOptions<E extends OutputEncoding = OutputEncoding> extends CommandOptions {
  /** Written to the command's stdin, which is then closed; without it stdin is empty. */
  input?: string | Uint8Array;
  /** Bytes kept per stream: the first half and the last half; beyond that `truncated` is set. */
  maxOutputBytes?: number;
  /** `buffer` returns stdout and stderr as Buffers; default `utf8` strings. */
  encoding?: E;
}

export interface SpawnOptions extends CommandOptions {
  /** `pipe` (default) gives streams on the handle; `inherit` passes the parent's own through. */
  stdio?: 'pipe' | 'inherit';
}

export interface ExitResult {
  /** Null when the process died of a signal. */
  exitCode: number | null;
  /** The signal the process died of, e.g. `SIGTERM`. */
  signal: NodeJS.Signals | null;
  durationMs: number;
}

export interface RunResult<Output = string> extends ExitResult {
  stdout: Output;
  stderr: Output;
  /** Output was longer than `maxOutputBytes`: stdout or stderr holds only its head and tail. */
  truncated: boolean;
}

/** A started command whose I/O the caller drives. */
export interface ExecutorProcess {
  readonly pid: number;
  /** Null with `stdio: 'inherit'`. */
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** Settles once the process and every process of its group has exited; does not wait for stdout to be read. */
  wait(): Promise<ExitResult>;
  /**
   * Without a signal, terminates the process group: SIGTERM, then SIGKILL after the grace
   * period. With one, sends that signal to the group. A no-op once the process has exited.
   */
  kill(signal?: NodeJS.Signals): void;
}

/** Runs host commands: never through a shell unless asked, always bounded in time and memory. */
export interface Executor extends Component {
  /** Runs a command to completion and captures its output. A non-zero exit is a result unless `reject`. */
  run<E extends OutputEncoding = 'utf8'>(
    command: string,
    args?: readonly string[],
    options?: RunOptions<E>,
  ): Promise<RunResult<OutputOf<E>>>;
  /** Starts a command and resolves once it runs, with its streams. */
  spawn(command: string, args?: readonly string[], options?: SpawnOptions): Promise<ExecutorProcess>;
}

export type ExecutorOperation = 'run' | 'spawn';

// A command may have effects, so a failed one is never repeated behind the caller's back.
export const executorOperations: OperationSpecs<ExecutorOperation> = {
  run: { idempotent: false },
  spawn: { idempotent: false },
};

export const executorPort: PortDefinition<ExecutorOperation> = {
  key: 'executor',
  name: 'executor',
  idPrefix: 'executor',
  envPrefix: 'EXECUTOR',
  critical: true,
  inMemoryDriver: 'memory',
  operations: executorOperations,
};

// A marker, not instanceof, so copies of berth recognise each other's errors.
const commandFailedMarker = Symbol.for('berth.CommandFailedError');

/** The `cause` of the InfraError a failed command raises under `reject: true`. */
export class CommandFailedError extends Error {
  readonly [commandFailedMarker] = true;
  /** The whole result, output included; `RunResult` from `run`, `ExitResult` from `spawn`. */
  readonly result: ExitResult | RunResult<string | Buffer>;

  constructor(message: string, result: ExitResult | RunResult<string | Buffer>) {
    super(message);
    this.name = 'CommandFailedError';
    this.result = result;
  }
}

export function isCommandFailedError(value: unknown): value is CommandFailedError {
  return typeof value === 'object' && value !== null && commandFailedMarker in value;
}

/** What berth asks an executor backend to start: everything already validated and resolved. */
export interface CommandRequest {
  /** As the caller gave it; the script when `shell`. */
  command: string;
  args: readonly string[];
  cwd: string | undefined;
  /** The command's complete environment. */
  env: Readonly<Record<string, string>>;
  shell: boolean;
  stdin: 'pipe' | 'ignore' | 'inherit';
  output: 'pipe' | 'inherit';
  killGraceMs: number;
}

/** One command a backend has started, as its own process group. */
export interface StartedCommand {
  readonly pid: number;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** Settles once the process has exited and no process of its group is left; rejects only if the backend fails. */
  readonly exited: Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal to the whole group. */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM to the group, SIGKILL after the grace period; idempotent. */
  terminate(): void;
}

/**
 * What an executor backend implements: start a process group and report its exit. berth
 * builds the `Executor` port around it once (validation, environment, timeouts, output
 * capture, concurrency, guard).
 */
export interface ExecutorAdapter {
  /** The backend, e.g. `process`. */
  readonly system: string;
  /** Resolves once the command runs; rejects with a driver error when it cannot start. */
  start(request: CommandRequest, ctx: OperationContext): Promise<StartedCommand>;
  /** A dedicated, bounded check that a trivial command runs. */
  probe(signal: AbortSignal): Promise<HealthResult>;
  classifyError(error: unknown): ErrorClassification;
  close(): Promise<void>;
}
