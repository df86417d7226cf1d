import { constants as osConstants } from 'node:os';
import { z } from 'zod';
import { policyOverridesSchema } from './schemas.ts';

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
// The OS cuts strings at NUL, so an argument holding one would not reach the command as given.
const withoutNul = z.string().refine((value) => !value.includes('\0'), { message: 'must not contain NUL' });
const envName = z.string().regex(/^[^=\0]+$/, { message: 'must be a non-empty name without = or NUL' });
// Not SIGUSR1: Node keeps it for the inspector.
const signalNames = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'] as const;

/** Options every executor factory takes: defaults for each command, and the worker pool. */
export const executorOptionsSchema = z.strictObject({
  id: z.string().min(1).max(200).optional(),
  /** Commands running at once; more wait in the queue. Default: the number of CPUs. */
  concurrency: positiveInt.optional(),
  /** Commands waiting for a slot; beyond that a call fails at once with `rate_limited`. Default 256. */
  maxQueued: nonNegativeInt.optional(),
  /** Default time between SIGTERM and SIGKILL. Default 5 s. */
  killGraceMs: nonNegativeInt.optional(),
  /** Default bytes kept per output stream of `run`. Default 10 MiB. */
  maxOutputBytes: nonNegativeInt.optional(),
  /** Default names of parent environment variables a command inherits. Default none. */
  inheritEnv: z.array(envName).optional(),
  /** `policies.timeoutMs` is the default command timeout. */
  policies: policyOverridesSchema.optional(),
});
export type ExecutorOptions = z.input<typeof executorOptionsSchema>;

export const processExecutorOptionsSchema = executorOptionsSchema.extend({
  /**
   * Parent signals passed on to every running command's process group, even when the
   * application handles them itself; `true` for SIGINT, SIGTERM and SIGHUP. Default false.
   */
  forwardSignals: z.union([z.boolean(), z.array(z.enum(signalNames))]).default(false),
  /** The health probe's command and arguments. Default: this Node binary with `-e 0`. */
  probeCommand: z.array(withoutNul.min(1)).min(1).optional(),
});
export type ProcessExecutorOptions = z.input<typeof processExecutorOptionsSchema>;

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

const isFunction = (value: unknown): boolean => typeof value === 'function';
const aFunction = () => z.custom(isFunction).describe('a function');
const output = z.union([z.string(), z.instanceof(Uint8Array)]);

const scriptedResultSchema = z.strictObject({
  exitCode: z.number().int().min(0).max(255).optional(),
  signal: z
    .custom<NodeJS.Signals>((value) => typeof value === 'string' && value in osConstants.signals, {
      message: 'must be a signal name, e.g. SIGTERM',
    })
    .optional(),
  stdout: output.optional(),
  stderr: output.optional(),
  delayMs: z.union([z.number().int().nonnegative(), z.literal(Infinity)]).optional(),
});

export const memoryExecutorOptionsSchema = executorOptionsSchema.extend({
  script: z
    .array(
      z.strictObject({
        command: z.union([z.string().min(1), z.instanceof(RegExp), aFunction()]),
        args: z.union([z.array(z.string()), z.instanceof(RegExp), aFunction()]).optional(),
        result: z.union([scriptedResultSchema, aFunction()]).optional(),
      }),
    )
    .default([]),
});

const commandOptionsShape = {
  cwd: withoutNul.min(1).optional(),
  env: z.record(envName, withoutNul).optional(),
  inheritEnv: z.array(envName).optional(),
  timeoutMs: z.union([positiveInt, z.literal(Infinity)]).optional(),
  signal: z.custom<AbortSignal>((value) => value instanceof AbortSignal, 'must be an AbortSignal').optional(),
  killGraceMs: nonNegativeInt.optional(),
  shell: z.boolean().optional(),
  reject: z.boolean().optional(),
};

/** One `run` call: the command, its arguments and its options. */
export const runCallSchema = z.strictObject({
  command: withoutNul.min(1),
  args: z.array(withoutNul),
  options: z.strictObject({
    ...commandOptionsShape,
    input: z.union([z.string(), z.instanceof(Uint8Array)]).optional(),
    maxOutputBytes: nonNegativeInt.optional(),
    encoding: z.enum(['utf8', 'buffer']).optional(),
  }),
});

/** One `spawn` call. */
export const spawnCallSchema = z.strictObject({
  command: withoutNul.min(1),
  args: z.array(withoutNul),
  options: z.strictObject({ ...commandOptionsShape, stdio: z.enum(['pipe', 'inherit']).optional() }),
});
