import { z } from 'zod';
import { positiveInt, secretValue, tlsSettingsSchema, urlOf } from '../../runtime/options/schema-pieces.ts';
import { poolSize, portShape } from '../../runtime/sql/sql-options.ts';

export const mssqlDatabaseOptionsSchema = z
  .strictObject({
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
    /** A private CA, a client certificate, the name to verify, in every backend's shape; implies encrypt. */
    tls: tlsSettingsSchema.optional(),
  })
  .refine((options) => options.tls === undefined || (options.encrypt && !options.trustServerCertificate), {
    message:
      'needs encrypt (MSSQL_ENCRYPT) on and says what trustServerCertificate would (insecureSkipVerify)',
    path: ['tls'],
  });

export type MssqlDatabaseOptions = z.input<typeof mssqlDatabaseOptionsSchema>;

export type ParsedMssqlDatabaseOptions = z.output<typeof mssqlDatabaseOptionsSchema>;
