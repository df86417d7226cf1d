// The database side: one node:sqlite file per database name in the state folder, shared by all
// sessions (writes are serialised by each database's lock, see locks.ts), plus a small catalog
// per database of what SQLite cannot hold itself: the SQL Server type of IDENTITY columns
// (declared INTEGER PRIMARY KEY for SQLite's rowid) and the names of keys and unique indexes.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { Ddl } from './ddl.ts';
import { sqlErrors, type UniqueIndex } from './errors.ts';
import { LockTable } from './locks.ts';
import type { Column } from './tokens.ts';
import type { ColumnHint } from './statements.ts';
import { parseSqlType, type SqlType, type StoredValue } from './types.ts';
import { parseTemporal, temporalText } from './values.ts';

export const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const CATALOG = `
  CREATE TABLE IF NOT EXISTS __tds_identity (table_name TEXT NOT NULL COLLATE NOCASE PRIMARY KEY,
    column_name TEXT NOT NULL, sql_type TEXT NOT NULL, seed INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS __tds_keys (table_name TEXT NOT NULL COLLATE NOCASE, name TEXT NOT NULL,
    kind TEXT NOT NULL, columns TEXT NOT NULL);`;

export class Database {
  readonly name: string;
  readonly sqlite: DatabaseSync;
  /** The resource name of its writer lock in Engine.locks. */
  readonly lock: string;
  private readonly statements = new Map<string, StatementSync>();

  constructor(name: string, file: string) {
    this.name = name;
    this.lock = `database:${name.toLowerCase()}`;
    this.sqlite = new DatabaseSync(file);
    this.sqlite.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;');
    this.sqlite.exec(CATALOG);
    registerFunctions(this.sqlite);
  }

  /** A prepared statement, cached by its text unless `cached` is false (it is not re-entrant). */
  prepare(sql: string, cached = true): StatementSync {
    let statement = cached ? this.statements.get(sql) : undefined;
    if (!statement) {
      statement = this.sqlite.prepare(sql);
      statement.setReadBigInts(true);
      statement.setReturnArrays(true);
      statement.setAllowUnknownNamedParameters(true);
      if (!cached) return statement;
      if (this.statements.size > 500) this.statements.clear();
      this.statements.set(sql, statement);
    }
    return statement;
  }

  identity(table: string): { column: string; type: SqlType } | undefined {
    const row = this.prepare('SELECT column_name, sql_type FROM __tds_identity WHERE table_name = ?').get(
      table,
    ) as [string, string] | undefined;
    const type = row ? parseSqlType(row[1]) : undefined;
    return row && type ? { column: row[0], type } : undefined;
  }

  uniqueIndexes(table: string): UniqueIndex[] {
    const rows = this.prepare('SELECT name, kind, columns FROM __tds_keys WHERE table_name = ?').all(
      table,
    ) as unknown as Array<[string, UniqueIndex['kind'], string]>;
    return rows.map(([name, kind, columns]) => ({ name, kind, columns: columns.split(',') }));
  }

  /** Keeps the catalog in step with a DDL statement that just ran. */
  recordDdl(ddl: Ddl): void {
    const run = (sql: string, ...values: Array<string | number>): void => {
      this.prepare(sql).run(...values);
    };
    switch (ddl.kind) {
      case 'createTable':
        run('DELETE FROM __tds_identity WHERE table_name = ?', ddl.table);
        run('DELETE FROM __tds_keys WHERE table_name = ?', ddl.table);
        if (ddl.identity) {
          const { column, type, seed } = ddl.identity;
          run('INSERT INTO __tds_identity VALUES (?, ?, ?, ?)', ddl.table, column, type.name, seed);
          if (seed !== 1) run('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)', ddl.table, seed - 1);
        }
        for (const key of ddl.constraints) {
          run(
            'INSERT INTO __tds_keys VALUES (?, ?, ?, ?)',
            ddl.table,
            key.name,
            key.kind,
            key.columns.join(','),
          );
        }
        return;
      case 'createIndex':
        if (ddl.unique) {
          const { name, kind, columns } = ddl.index;
          run('INSERT INTO __tds_keys VALUES (?, ?, ?, ?)', ddl.table, name, kind, columns.join(','));
        }
        return;
      case 'dropIndex':
        run(
          "DELETE FROM __tds_keys WHERE table_name = ? AND name = ? AND kind = 'INDEX'",
          ddl.table,
          ddl.name,
        );
        return;
      case 'dropTable':
        for (const table of ddl.tables) {
          run('DELETE FROM __tds_identity WHERE table_name = ?', table);
          run('DELETE FROM __tds_keys WHERE table_name = ?', table);
        }
        return;
      case 'truncate':
        // TRUNCATE TABLE restarts the identity at its seed (sqlite_sequence exists with AUTOINCREMENT).
        if (!this.identity(ddl.table)) return;
        run(
          'UPDATE sqlite_sequence SET seq = (SELECT seed - 1 FROM __tds_identity WHERE table_name = ?) WHERE name = ?',
          ddl.table,
          ddl.table,
        );
        return;
    }
  }

  /** The SQL Server type of column `column` in any table that has one by that name. */
  columnType(column: string): SqlType | undefined {
    const tables = this.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_\\_tds%' ESCAPE '\\'",
    )
      .all()
      .map((row) => String((row as unknown as unknown[])[0]));
    for (const table of tables) {
      const identity = this.identity(table);
      if (identity && identity.column.toLowerCase() === column.toLowerCase()) return identity.type;
      for (const info of this.prepare(`SELECT name, type FROM pragma_table_info(?)`).all(
        table,
      ) as unknown as Array<[string, string]>) {
        if (info[0].toLowerCase() === column.toLowerCase()) return parseSqlType(info[1]);
      }
    }
    return undefined;
  }

  close(): void {
    this.statements.clear();
    this.sqlite.close();
  }
}

/** Functions the translation calls (render.ts): T-SQL built-ins SQLite does not have. */
function registerFunctions(db: DatabaseSync): void {
  const now = (utc: boolean, kind: 'datetime' | 'datetime2' | 'datetimeoffset'): string => {
    const date = new Date();
    const offset = utc ? 0 : -date.getTimezoneOffset();
    const local = new Date(date.getTime() + offset * 60_000).toISOString().replace('T', ' ').replace('Z', '');
    const parts = parseTemporal(kind === 'datetimeoffset' ? `${local}` : local);
    if (!parts) return local;
    return temporalText(kind, kind === 'datetimeoffset' ? { ...parts, offsetMinutes: offset } : parts);
  };
  const options = { deterministic: false, varargs: false } as const;
  db.function('tds_getdate', options, () => now(false, 'datetime'));
  db.function('tds_getutcdate', options, () => now(true, 'datetime'));
  db.function('tds_sysdatetime', options, () => now(false, 'datetime2'));
  db.function('tds_sysutcdatetime', options, () => now(true, 'datetime2'));
  db.function('tds_sysdatetimeoffset', options, () => now(false, 'datetimeoffset'));
  db.function('tds_newid', options, () => randomUUID().toUpperCase());
  type SqliteValue = string | number | bigint | Uint8Array | null;
  db.function('tds_len', { deterministic: true }, (value: SqliteValue) =>
    value === null
      ? null
      : value instanceof Uint8Array
        ? value.length
        : String(value).replace(/ +$/, '').length,
  );
  db.function('tds_datalength', { deterministic: true }, (value: SqliteValue) => {
    if (value === null) return null;
    if (value instanceof Uint8Array) return value.length;
    return Buffer.byteLength(String(value), 'utf16le');
  });
}

export class Engine {
  readonly dir: string;
  readonly locks = new LockTable();
  private readonly databases = new Map<string, Database>();

  constructor(dir: string, initial: readonly string[] = ['master', 'berth']) {
    this.dir = dir;
    fs.mkdirSync(dir, { recursive: true });
    for (const name of initial) this.create(name);
  }

  private file(name: string): string {
    return path.join(this.dir, `${name.toLowerCase()}.sqlite`);
  }

  create(name: string): Database {
    if (!DATABASE_NAME.test(name)) throw sqlErrors.cannotOpenDatabase(name);
    const existing = this.databases.get(name.toLowerCase());
    if (existing) return existing;
    const database = new Database(name, this.file(name));
    this.databases.set(name.toLowerCase(), database);
    return database;
  }

  /** An existing database (its file is in the state folder), else undefined. */
  open(name: string): Database | undefined {
    const known = this.databases.get(name.toLowerCase());
    if (known) return known;
    if (!DATABASE_NAME.test(name) || !fs.existsSync(this.file(name))) return undefined;
    return this.create(name);
  }

  close(): void {
    for (const database of this.databases.values()) database.close();
    this.databases.clear();
  }
}

/** The type a result column is sent with: declared, hinted by the query text, or seen in the first row. */
export function resolveColumns(
  database: Database,
  statement: StatementSync,
  first: readonly StoredValue[] | undefined,
  hints: readonly (ColumnHint | undefined)[] | undefined,
  variableType: (name: string) => SqlType | undefined,
): Column[] {
  const described = statement.columns();
  return described.map((column, index) => {
    const origin = column.table && column.column ? database.identity(column.table) : undefined;
    if (origin && column.column && origin.column.toLowerCase() === column.column.toLowerCase()) {
      return { name: column.name, type: origin.type, nullable: false, identity: true };
    }
    const declared = column.type ? parseSqlType(column.type) : undefined;
    const hint = hints?.length === described.length ? hints[index] : undefined;
    const type =
      declared ??
      hint?.type ??
      (hint?.variable ? variableType(hint.variable) : undefined) ??
      (hint?.aggregate ? aggregateType(database, hint.aggregate.fn, hint.aggregate.column) : undefined) ??
      inferType(first?.[index] ?? null);
    return { name: column.name, type, nullable: true };
  });
}

function aggregateType(database: Database, fn: string, column: string): SqlType | undefined {
  const type = database.columnType(column);
  if (!type || fn === 'MIN' || fn === 'MAX') return type;
  switch (type.name) {
    case 'tinyint':
    case 'smallint':
    case 'int':
      return { name: 'int' };
    case 'bigint':
      return { name: 'bigint' };
    case 'decimal':
    case 'numeric':
      return { name: type.name, precision: 38, scale: fn === 'AVG' ? Math.max(6, type.scale) : type.scale };
    case 'float':
    case 'real':
      return { name: 'float' };
    default:
      return undefined;
  }
}

function inferType(value: StoredValue): SqlType {
  if (value === null) return { name: 'int' };
  if (typeof value === 'bigint') {
    return value >= -2147483648n && value <= 2147483647n ? { name: 'int' } : { name: 'bigint' };
  }
  if (typeof value === 'number')
    return Number.isInteger(value) && Math.abs(value) < 2 ** 31 ? { name: 'int' } : { name: 'float' };
  if (typeof value === 'string') return { name: 'nvarchar', length: value.length > 4000 ? 'max' : 4000 };
  return { name: 'varbinary', length: 'max' };
}
