import { defineAdapter } from '../../runtime/adapter-descriptor.ts';
import { tlsVariables } from '../shared/tls.ts';
import { mssqlDatabaseOptionsSchema, type MssqlDatabaseOptions } from './options.ts';

export const mssqlSqlAdapter = defineAdapter({
  port: 'sql',
  driver: 'mssql',
  options: mssqlDatabaseOptionsSchema,
  packages: ['mssql'],
  env: {
    MSSQL_URL: { option: 'url', required: true, description: 'mssql://user:password@host:port/database' },
    MSSQL_PASSWORD: { option: 'password', kind: 'secret', description: 'overrides the password in the URL' },
    MSSQL_POOL_SIZE: { option: 'poolSize', kind: 'integer', description: 'connections at most (default 10)' },
    MSSQL_ENCRYPT: {
      option: 'encrypt',
      kind: 'boolean',
      description: 'TLS when the server offers it (default true)',
    },
    MSSQL_TRUST_SERVER_CERTIFICATE: {
      option: 'trustServerCertificate',
      kind: 'boolean',
      description: 'accept a self-signed certificate (development servers only)',
    },
    ...tlsVariables('MSSQL'),
  },
  create: async (options, runtime) =>
    (await import('./sql-database.ts')).createMssqlDatabase(options as MssqlDatabaseOptions, runtime),
});
