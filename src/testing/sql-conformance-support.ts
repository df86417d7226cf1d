import assert from 'node:assert/strict';
import type { SqlDatabase } from '../ports/sql-database.ts';
import type { SqlDialect } from '../ports/sql.ts';

/** Column types of the suite's tables, per dialect: the one place the suite is not portable SQL. */
export interface DialectTypes {
  key: string;
  int: string;
  bigint: string;
  decimal: string;
  bool: string;
  time: string;
  json: string;
  bytes: string;
  text: string;
  /** A statement that runs for about five seconds. */
  sleepFiveSeconds: string;
}

export const dialectTypes: Readonly<Record<SqlDialect, DialectTypes>> = {
  postgres: {
    key: 'text',
    int: 'integer',
    bigint: 'bigint',
    decimal: 'numeric(38,10)',
    bool: 'boolean',
    time: 'timestamptz',
    json: 'jsonb',
    bytes: 'bytea',
    text: 'text',
    sleepFiveSeconds: 'SELECT pg_sleep(5)',
  },
  mssql: {
    key: 'nvarchar(200)',
    int: 'int',
    bigint: 'bigint',
    decimal: 'decimal(38,10)',
    bool: 'bit',
    time: 'datetime2(3)',
    json: 'nvarchar(max)',
    bytes: 'varbinary(max)',
    text: 'nvarchar(max)',
    sleepFiveSeconds: "WAITFOR DELAY '00:00:05'",
  },
};

export interface SqlFeatures {
  /**
   * Significant digits a decimal keeps when read back: unlimited on PostgreSQL; tedious reads
   * SQL Server's DECIMAL into a JavaScript number, so 15 there.
   */
  decimalDigits: number;
  /** JSON reads back parsed (PostgreSQL's jsonb) rather than as its text (SQL Server's nvarchar). */
  jsonParsed: boolean;
  /** A statement past its deadline is stopped (a server); false in process (PGlite). */
  cancelsStatements: boolean;
}

/** The rows of `db.query` as plain objects, with bytes as arrays: comparable with deepEqual. */
export function plain(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([key, value]) => [key, value instanceof Uint8Array ? [...value] : value]),
    ),
  );
}

/** A table the test owns, dropped afterwards whatever happened. */
export async function withTable(
  db: SqlDatabase,
  name: string,
  columns: string,
  fn: () => Promise<void>,
): Promise<void> {
  await db.execute({ text: `CREATE TABLE ${name} (${columns})` });
  try {
    await fn();
  } finally {
    await db.execute({ text: `DROP TABLE ${name}` }).catch(() => undefined);
  }
}

/** Strings an attacker would try in every parameter position. */
export const hostileStrings: readonly string[] = [
  "'); DROP TABLE canary; --",
  "' OR '1'='1",
  '"; DROP TABLE canary; --',
  "\\'; DROP TABLE canary; --",
  '$1',
  '@p1',
  "1; EXEC sp_executesql N'DROP TABLE canary'",
  "') ; SELECT pg_sleep(0); --",
  '/* */ UNION SELECT 1 --',
  'Robert\u2019); DROP TABLE canary;--',
  `${'x'.repeat(1_000)}'`,
];

export async function assertCanary(db: SqlDatabase, canary: string): Promise<void> {
  const rows = await db.query<{ id: string }>({ text: `SELECT id FROM ${canary}` });
  assert.deepEqual(
    rows.map((row) => row.id),
    ['alive'],
  );
}
