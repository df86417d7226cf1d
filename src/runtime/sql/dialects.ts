import type { SqlDialect } from '../../ports/sql.ts';

/** The statements berth itself sends, per dialect: savepoints and the migrations' table and lock. */
export interface DialectStatements {
  savepoint(name: string): string;
  rollbackToSavepoint(name: string): string;
  /** Undefined where a savepoint needs no release (SQL Server). */
  releaseSavepoint?(name: string): string;
  /** Creates the migrations table when it is missing; safe to run again. */
  createMigrationsTable(table: string): string;
  /**
   * Takes the migrations lock until the transaction ends; returns one row whose `granted` is
   * false when the lock was not obtained within `waitMs`.
   */
  lockMigrations(table: string, waitMs: number): string;
}

/** The key of PostgreSQL's advisory lock for migrations: derived from the table name. */
function advisoryKey(table: string): number {
  let hash = 0;
  for (const char of table) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) | 0;
  return hash;
}

export const dialects: Readonly<Record<SqlDialect, DialectStatements>> = {
  postgres: {
    savepoint: (name) => `SAVEPOINT ${name}`,
    rollbackToSavepoint: (name) => `ROLLBACK TO SAVEPOINT ${name}`,
    releaseSavepoint: (name) => `RELEASE SAVEPOINT ${name}`,
    createMigrationsTable: (table) =>
      `CREATE TABLE IF NOT EXISTS ${table} (id text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL)`,
    // Two int4 keys: the first names berth, the second the table. The statement deadline bounds the wait.
    lockMigrations: (table) =>
      `SELECT pg_advisory_xact_lock(1652798068, ${advisoryKey(table)}) IS NOT NULL AS granted`,
  },
  mssql: {
    savepoint: (name) => `SAVE TRANSACTION ${name}`,
    rollbackToSavepoint: (name) => `ROLLBACK TRANSACTION ${name}`,
    createMigrationsTable: (table) =>
      `IF OBJECT_ID(N'${table}', N'U') IS NULL CREATE TABLE ${table} (id nvarchar(200) NOT NULL PRIMARY KEY, checksum nvarchar(64) NOT NULL, applied_at datetime2(3) NOT NULL)`,
    lockMigrations: (table, waitMs) =>
      `DECLARE @granted int; EXEC @granted = sp_getapplock @Resource = N'${table}', @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = ${Math.floor(waitMs)}; SELECT CAST(CASE WHEN @granted >= 0 THEN 1 ELSE 0 END AS bit) AS granted`,
  },
};
