export { createPostgresDatabase, type PostgresDatabase } from './pg-database.ts';
export { createEmbeddedDatabase, type EmbeddedDatabase } from './embedded-database.ts';
export { classifyPostgresError } from './errors.ts';
export type { EmbeddedDatabaseOptions, PostgresDatabaseOptions } from '../../options/sql-schemas.ts';
