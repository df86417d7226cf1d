export { createMssqlDatabase, type MssqlDatabase } from './sql-database.ts';
export { classifySqlServerError } from './errors.ts';
export type { MssqlDatabaseOptions } from './options.ts';
