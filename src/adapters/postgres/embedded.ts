// `berth/embedded`: PGlite only, so that an application without `pg` installed can import it.
export { createEmbeddedDatabase, type EmbeddedDatabase } from './embedded-sql-database.ts';
export { classifyPostgresError } from './errors.ts';
export type { EmbeddedDatabaseOptions } from './options.ts';
