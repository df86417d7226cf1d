import { basename } from 'node:path';
import type { CommandRequest, ExecutorOperation, OutputEncoding } from '../../ports/executor.ts';
import type { InfraError } from '../../ports/errors.ts';
import { parseInput } from '../options/validate.ts';
import type { runCallSchema, spawnCallSchema } from './call-schemas.ts';

const defaultKillGraceMs = 5_000;

/** One call of `run` or `spawn`, checked before any process starts. */
export interface PreparedCall {
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

/** The executor's defaults a call falls back on. */
export interface CallDefaults {
  timeoutMs: number;
  killGraceMs: number | undefined;
  inheritEnv: readonly string[] | undefined;
}

/** What a call gave, as `run` and `spawn` take it. */
export interface CallArguments {
  command: unknown;
  args: unknown;
  options: unknown;
}

export function prepareCall(
  operation: ExecutorOperation,
  schema: typeof runCallSchema | typeof spawnCallSchema,
  given: CallArguments,
  defaults: CallDefaults,
  invalid: (message: string) => InfraError,
): PreparedCall {
  const call = parseInput(
    schema,
    { command: given.command, args: given.args ?? [], options: given.options ?? {} },
    invalid,
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
    timeoutMs: opts.timeoutMs ?? defaults.timeoutMs,
    signal: opts.signal,
    reject: opts.reject ?? false,
    request: {
      command: call.command,
      args: call.args,
      cwd: opts.cwd,
      env: environment(opts.inheritEnv ?? defaults.inheritEnv ?? [], opts.env),
      shell,
      stdin: inherited ? 'inherit' : operation === 'spawn' || input !== undefined ? 'pipe' : 'ignore',
      output: inherited ? 'inherit' : 'pipe',
      killGraceMs: opts.killGraceMs ?? defaults.killGraceMs ?? defaultKillGraceMs,
    },
  };
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
