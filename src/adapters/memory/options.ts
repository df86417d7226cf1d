import { constants as osConstants } from 'node:os';
import { z } from 'zod';
import { componentId, policyOverridesSchema, positiveInt } from '../../runtime/options/schema-pieces.ts';
import { executorOptionsSchema } from '../../runtime/executor/call-schemas.ts';
import { seriesName, ttlMs } from '../../runtime/time-series/option-pieces.ts';

export const memoryCacheOptionsSchema = z.strictObject({
  id: componentId.optional(),
  /** Entries kept before the least recently used is evicted. */
  maxEntries: positiveInt.default(10_000),
  policies: policyOverridesSchema.optional(),
});

export type MemoryCacheOptions = z.input<typeof memoryCacheOptionsSchema>;

export const memoryDocumentStoreOptionsSchema = z.strictObject({
  id: componentId.optional(),
  policies: policyOverridesSchema.optional(),
});

export type MemoryDocumentStoreOptions = z.input<typeof memoryDocumentStoreOptionsSchema>;

export const memorySecretStoreOptionsSchema = z.strictObject({
  id: componentId.optional(),
  /** Secrets present from the start, by name. */
  secrets: z.record(z.string(), z.string()).default({}),
  policies: policyOverridesSchema.optional(),
});

export type MemorySecretStoreOptions = z.input<typeof memorySecretStoreOptionsSchema>;

export const memoryTimeSeriesOptionsSchema = z.strictObject({
  id: componentId.optional(),
  /** Time to live of points written without one and not in `seriesTtlMs`; absent keeps them. */
  defaultTtlMs: ttlMs.optional(),
  /** Time to live by series name, over `defaultTtlMs`; a write's own `ttlMs` overrides both. */
  seriesTtlMs: z.record(seriesName, ttlMs).optional(),
  /** Points kept; past it, expired points go first, then the oldest by time. */
  maxPoints: z.number().int().positive().default(1_000_000),
  policies: policyOverridesSchema.optional(),
});

export type MemoryTimeSeriesOptions = z.input<typeof memoryTimeSeriesOptionsSchema>;

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
