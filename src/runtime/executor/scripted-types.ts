// The memory executor's script, as types: the conformance suite (berth/testing) builds scripts
// without importing the memory adapter.
import type { ExecutorOptions } from './call-schemas.ts';

// The memory executor's options: here, below the adapters, so that the executor suite (src/testing)
// can write a script for it without importing the adapter.
/** A command the memory executor was asked to start, as the process executor would have started it. */
export interface ExecutorCall {
  command: string;
  args: readonly string[];
  cwd: string | undefined;
  /** The complete environment the command got. */
  env: Readonly<Record<string, string>>;
  shell: boolean;
  /** Everything written to stdin, once it was closed; undefined until then. */
  input: Buffer | undefined;
}

/** What a scripted command does. */
export interface ScriptedResult {
  /** Default 0. */
  exitCode?: number;
  /** Dies of this signal instead of exiting. */
  signal?: NodeJS.Signals;
  stdout?: string | Uint8Array;
  stderr?: string | Uint8Array;
  /** Runs this long before exiting; `Infinity` until it is killed. */
  delayMs?: number;
}

export interface ScriptedContext {
  /** Resolves with stdin's bytes once stdin is closed (at once when the call has none). */
  input(): Promise<Buffer>;
  /** Aborted when the command is terminated. */
  signal: AbortSignal;
}

export type ScriptedResponder = (
  call: ExecutorCall,
  context: ScriptedContext,
) => ScriptedResult | Promise<ScriptedResult>;

/** One entry of the script; the first entry that matches a call answers it. */
export interface ScriptedCommand {
  /** The command exactly, a RegExp, or a predicate. With `shell: true` the command is the script. */
  command: string | RegExp | ((command: string) => boolean);
  /** The arguments exactly, a RegExp tested against them joined by spaces, or a predicate; absent matches any. */
  args?: readonly string[] | RegExp | ((args: readonly string[]) => boolean);
  /** What the command does, or a function of the call; absent exits 0 without output. */
  result?: ScriptedResult | ScriptedResponder;
}

export interface MemoryExecutorOptions extends ExecutorOptions {
  script?: readonly ScriptedCommand[];
}
