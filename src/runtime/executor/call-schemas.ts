import { z } from 'zod';
import { componentId, nonNegativeInt, policyOverridesSchema, positiveInt } from '../options/schema-pieces.ts';

// The OS cuts strings at NUL, so an argument holding one would not reach the command as given.
export const withoutNul = z
  .string()
  .refine((value) => !value.includes('\0'), { message: 'must not contain NUL' });

export const envName = z
  .string()
  .regex(/^[^=\0]+$/, { message: 'must be a non-empty name without = or NUL' });

// Not SIGUSR1: Node keeps it for the inspector.
export const signalNames = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'] as const;

/** Options every executor factory takes: defaults for each command, and the worker pool. */
export const executorOptionsSchema = z.strictObject({
  id: componentId.optional(),
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
