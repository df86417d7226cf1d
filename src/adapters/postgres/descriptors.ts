import { defineAdapter } from '../../runtime/adapter-descriptor.ts';
import {
  embeddedDatabaseOptionsSchema,
  postgresDatabaseOptionsSchema,
  type EmbeddedDatabaseOptions,
  type PostgresDatabaseOptions,
} from '../../options/sql-schemas.ts';

export const embeddedSqlAdapter = defineAdapter({
  port: 'sql',
  driver: 'embedded',
  options: embeddedDatabaseOptionsSchema,
  env: {
    SQL_DATA_DIR: { option: 'dataDir', description: 'folder that keeps the database (default: in memory)' },
  },
  create: async (options, runtime) =>
    (await import('./embedded-database.ts')).createEmbeddedDatabase(
      options as EmbeddedDatabaseOptions,
      runtime,
    ),
});

export const postgresSqlAdapter = defineAdapter({
  port: 'sql',
  driver: 'postgres',
  options: postgresDatabaseOptionsSchema,
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
  },
  create: async (options, runtime) =>
    (await import('./pg-database.ts')).createPostgresDatabase(options as PostgresDatabaseOptions, runtime),
});
