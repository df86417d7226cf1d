import { z } from 'zod';
import type { Migration } from '../ports/sql-database.ts';
import { policyOverridesSchema, secretValue, urlOf } from './schemas.ts';

const componentId = z.string().min(1).max(200);
const positiveInt = z.number().int().positive();

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
const portShape = {
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

const poolSize = positiveInt.max(1_000).default(10);

export const postgresDatabaseOptionsSchema = z.strictObject({
  ...portShape,
  /** `postgres://user:password@host:port/database`; the password never reaches a log. */
  url: urlOf(['postgres:', 'postgresql:'], 'must be a postgres:// or postgresql:// URL with a host'),
  /** Overrides the password in `url`; a `Redacted` one stays out of logs. */
  password: secretValue.optional(),
  /** Connections at most (one more is kept for health probes). Default 10. */
  poolSize,
  connectTimeoutMs: positiveInt.default(5_000),
  /** TLS: `true` verifies the server against the system's CAs; a CA file's text for a private CA. */
  ssl: z.union([z.boolean(), z.strictObject({ ca: z.string().min(1) })]).default(false),
  applicationName: z.string().max(63).default('berth'),
});
export type PostgresDatabaseOptions = z.input<typeof postgresDatabaseOptionsSchema>;
export type ParsedPostgresDatabaseOptions = z.output<typeof postgresDatabaseOptionsSchema>;

export const embeddedDatabaseOptionsSchema = z.strictObject({
  ...portShape,
  /** A folder that keeps the database across restarts; absent keeps it in memory. */
  dataDir: z.string().min(1).optional(),
  /**
   * Whether `start()` loads PGlite (default true: its seconds of loading block the event loop, better
   * at start than mid-request). False loads it on the first statement, so an app or a test that
   * never runs one neither waits for it nor needs `@electric-sql/pglite` installed.
   */
  loadOnStart: z.boolean().default(true),
  /**
   * A PGlite instance of the caller's to use instead of starting one (its start takes seconds);
   * the caller closes it. Excludes `dataDir`.
   */
  pglite: z
    .custom<object>(
      (value) => typeof value === 'object' && value !== null && 'query' in value && 'exec' in value,
      {
        message: 'expected a PGlite instance',
      },
    )
    .optional(),
});
export type EmbeddedDatabaseOptions = z.input<typeof embeddedDatabaseOptionsSchema>;
export type ParsedEmbeddedDatabaseOptions = z.output<typeof embeddedDatabaseOptionsSchema>;

export const mssqlDatabaseOptionsSchema = z.strictObject({
  ...portShape,
  /** `mssql://user:password@host:port/database`; the password never reaches a log. */
  url: urlOf(['mssql:', 'sqlserver:'], 'must be a mssql:// or sqlserver:// URL with a host'),
  /** Overrides the password in `url`; a `Redacted` one stays out of logs. */
  password: secretValue.optional(),
  /** Connections at most (one more is kept for health probes). Default 10. */
  poolSize,
  connectTimeoutMs: positiveInt.default(5_000),
  /** TLS as the driver's `encrypt` (default true: used when the server offers it). */
  encrypt: z.boolean().default(true),
  /** Accepts a self-signed server certificate: for development servers only. */
  trustServerCertificate: z.boolean().default(false),
});
export type MssqlDatabaseOptions = z.input<typeof mssqlDatabaseOptionsSchema>;
export type ParsedMssqlDatabaseOptions = z.output<typeof mssqlDatabaseOptionsSchema>;
