import { z } from 'zod';
import { positiveInt, secretValue, tlsSettingsSchema, urlOf } from '../../runtime/options/schema-pieces.ts';
import { poolSize, portShape } from '../../runtime/sql/sql-options.ts';

export const postgresDatabaseOptionsSchema = z
  .strictObject({
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
    /** TLS, verified as libpq's `sslmode=verify-full` does, in every backend's shape; excludes `ssl`. */
    tls: tlsSettingsSchema.optional(),
    applicationName: z.string().max(63).default('berth'),
  })
  .refine((options) => options.tls === undefined || options.ssl === false, {
    message: 'and ssl exclude each other: tls (POSTGRES_TLS_*) says everything ssl does',
    path: ['tls'],
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
