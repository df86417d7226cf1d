import { z } from 'zod';

// As the port checks a TTL: whole milliseconds, at most 20 years (Cassandra's limit).
export const ttlMs = z.number().int().positive().max(630_720_000_000);
export const seriesName = z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/, {
  message: 'series names are 1 to 200 letters, digits, _ . - :',
});
