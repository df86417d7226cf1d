import { z } from 'zod';
import { policyOverridesSchema } from './schemas.ts';

const componentId = z.string().min(1).max(200);
// As the port checks a TTL: whole milliseconds, at most 20 years (Cassandra's limit).
const ttlMs = z.number().int().positive().max(630_720_000_000);
const seriesName = z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/, {
  message: 'series names are 1 to 200 letters, digits, _ . - :',
});

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
