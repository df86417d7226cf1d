export { createPostgresDatabase, type PostgresDatabase } from './sql-database.ts';
export { createEmbeddedDatabase, type EmbeddedDatabase } from './embedded-sql-database.ts';
export { classifyPostgresError } from './errors.ts';
export type { EmbeddedDatabaseOptions, PostgresDatabaseOptions } from './options.ts';
