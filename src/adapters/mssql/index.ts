export { createMssqlDatabase, type MssqlDatabase } from './database.ts';
export { classifySqlServerError } from './errors.ts';
export type { MssqlDatabaseOptions } from '../../options/sql-schemas.ts';
