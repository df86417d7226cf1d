// Options every SQL adapter takes: what the port does around the driver.
import { z } from 'zod';
import type { Migration } from '../../ports/sql-database.ts';
import { componentId, policyOverridesSchema, positiveInt } from '../options/schema-pieces.ts';

const migration = z.custom<Migration>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Migration).id === 'string' &&
    (typeof (value as Migration).sql === 'string' ||
      (typeof (value as Migration).sql === 'object' && (value as Migration).sql !== null)),
  'expected { id, sql }',
);

/** Options every SQL adapter takes: what the port does around the driver. */
export const portShape = {
  id: componentId.optional(),
  /** How long a call waits for a free connection before `timeout`. Default 1,000 ms. */
  acquireTimeoutMs: positiveInt.max(600_000).default(1_000),
  /** Calls waiting for a connection at most; one more gets `rate_limited` at once. Default 1,000. */
  maxWaiting: z.number().int().nonnegative().max(1_000_000).default(1_000),
  /** Deadline of a whole transaction. Default 30,000 ms. */
  transactionTimeoutMs: positiveInt.max(3_600_000).default(30_000),
  /** Applied by `start()` (`infra.start()`), in order, once each. */
  migrations: z.array(migration).optional(),
  /** A folder of `*.sql` files applied as migrations, in file-name order, ids without `.sql`. */
  migrationsDirectory: z.string().min(1).optional(),
  /** Table recording applied migrations. */
  migrationsTable: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, { message: 'letters, digits and _, at most 63' })
    .default('berth_migrations'),
  policies: policyOverridesSchema.optional(),
};

export const poolSize = positiveInt.max(1_000).default(10);
