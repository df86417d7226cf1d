import { defineAdapter } from '../../runtime/adapter-descriptor.ts';
import { tlsVariables } from '../shared/tls.ts';
import {
  embeddedDatabaseOptionsSchema,
  postgresDatabaseOptionsSchema,
  type PostgresDatabaseOptions,
} from './options.ts';

export const embeddedSqlAdapter = defineAdapter({
  port: 'sql',
  driver: 'embedded',
  options: embeddedDatabaseOptionsSchema,
  packages: ['@electric-sql/pglite'],
  env: {
    SQL_DATA_DIR: { option: 'dataDir', description: 'folder that keeps the database (default: in memory)' },
  },
  create: async (options, runtime) => {
    // The adapter imports PGlite only at start: resolving it now makes a missing one fail here,
    // as a ConfigError; not when asked to load it on the first statement (`loadOnStart: false`).
    if (options.pglite === undefined && options.loadOnStart !== false)
      import.meta.resolve('@electric-sql/pglite');
    return (await import('./embedded-sql-database.ts')).createEmbeddedDatabase(options, runtime);
  },
});

export const postgresSqlAdapter = defineAdapter({
  port: 'sql',
  driver: 'postgres',
  options: postgresDatabaseOptionsSchema,
  packages: ['pg'],
  env: {
    POSTGRES_URL: {
      option: 'url',
      required: true,
      description: 'postgres://user:password@host:port/database',
    },
    POSTGRES_PASSWORD: {
      option: 'password',
      kind: 'secret',
      description: 'overrides the password in the URL',
    },
    POSTGRES_POOL_SIZE: {
      option: 'poolSize',
      kind: 'integer',
      description: 'connections at most (default 10)',
    },
    ...tlsVariables('POSTGRES'),
  },
  create: async (options, runtime) =>
    (await import('./sql-database.ts')).createPostgresDatabase(options as PostgresDatabaseOptions, runtime),
});
