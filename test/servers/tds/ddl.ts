// CREATE TABLE / CREATE INDEX / DROP / TRUNCATE / ALTER TABLE ADD, from T-SQL to SQLite. Column
// types are declared so that SQLite stores them exactly and the engine can read them back
// (types.ts); constraint names are SQL Server's (PK__table__hash), kept in the engine's catalog
// for the wording of duplicate-key errors.
import { createHash } from 'node:crypto';
import { sqlErrors } from './errors.ts';
import { isSymbol, isWord, type Token } from './lexer.ts';
import { closing, depthAt, quoteIdentifier, render, readType } from './render.ts';
import { formatSqlType, sqliteType, type SqlType } from './types.ts';

export interface Constraint {
  readonly name: string;
  readonly kind: 'PRIMARY KEY' | 'UNIQUE KEY' | 'INDEX';
  readonly columns: readonly string[];
}

export type Ddl =
  | {
      readonly kind: 'createTable';
      readonly table: string;
      readonly ifNotExists: boolean;
      readonly identity?: { readonly column: string; readonly type: SqlType; readonly seed: number };
      readonly constraints: readonly Constraint[];
    }
  | {
      readonly kind: 'createIndex';
      readonly table: string;
      readonly index: Constraint;
      readonly unique: boolean;
    }
  | { readonly kind: 'dropTable'; readonly tables: readonly string[] }
  | { readonly kind: 'dropIndex'; readonly table: string; readonly name: string }
  | { readonly kind: 'truncate'; readonly table: string };

export interface DdlStatement {
  readonly sql: string;
  readonly ddl: Ddl;
}

/** SQL Server's generated constraint names: PK__<table, 8 chars>__<16 hex digits>. */
function generatedName(prefix: 'PK' | 'UQ', table: string, columns: readonly string[]): string {
  const hash = createHash('sha256')
    .update(`${table}\0${columns.join('\0')}`)
    .digest('hex')
    .slice(0, 16);
  return `${prefix}__${table.slice(0, 8)}__${hash.toUpperCase()}`;
}

/** The SQLite name of index `name` of `table` (SQL Server's index names are per table). */
export const indexName = (table: string, name: string): string => `${table}.${name}`;

const name = (token: Token | undefined): string => {
  if (!token || (token.kind !== 'word' && token.kind !== 'quoted')) throw sqlErrors.syntax(token?.text ?? '');
  return token.text;
};

/** `(a ASC, b DESC)` at `open`: the column names, and where the list ends. */
function columnList(tokens: readonly Token[], open: number): { columns: string[]; end: number } {
  if (!isSymbol(tokens[open], '(')) throw sqlErrors.syntax(tokens[open]?.text ?? '');
  const close = closing(tokens, open);
  const columns = tokens
    .slice(open + 1, close)
    .filter((token) => (token.kind === 'word' && !isWord(token, 'ASC', 'DESC')) || token.kind === 'quoted')
    .map((token) => token.text);
  return { columns, end: close + 1 };
}

const skipClustered = (tokens: readonly Token[], at: number): number =>
  isWord(tokens[at], 'CLUSTERED', 'NONCLUSTERED') ? at + 1 : at;

export function createTable(tokens: readonly Token[]): DdlStatement {
  // CREATE TABLE [IF NOT EXISTS] name ( … )
  let at = 2;
  let ifNotExists = false;
  if (isWord(tokens[at], 'IF') && isWord(tokens[at + 1], 'NOT') && isWord(tokens[at + 2], 'EXISTS')) {
    ifNotExists = true;
    at += 3;
  }
  const table = name(tokens[at]);
  const open = at + 1;
  const close = closing(tokens, open);
  if (close !== tokens.length - 1) throw sqlErrors.unsupported(tokens[close + 1]?.text ?? '');
  const body = tokens.slice(open + 1, close);
  const elements: Token[][] = [];
  let start = 0;
  body.forEach((token, index) => {
    if (isSymbol(token, ',') && depthAt(body, index) === 0) {
      elements.push(body.slice(start, index));
      start = index + 1;
    }
  });
  elements.push(body.slice(start));

  const constraints: Constraint[] = [];
  const definitions: string[] = [];
  let identity: { column: string; type: SqlType; seed: number } | undefined;
  let primaryKeyColumns: string[] | undefined;
  for (const element of elements) {
    let constraintName: string | undefined;
    let i = 0;
    if (isWord(element[0], 'CONSTRAINT')) {
      constraintName = name(element[1]);
      i = 2;
    }
    if (isWord(element[i], 'PRIMARY') && isWord(element[i + 1], 'KEY')) {
      const { columns } = columnList(element, skipClustered(element, i + 2));
      const constraint = constraintName ?? generatedName('PK', table, columns);
      constraints.push({ name: constraint, kind: 'PRIMARY KEY', columns });
      primaryKeyColumns = columns;
      definitions.push(
        `CONSTRAINT ${quoteIdentifier(constraint)} PRIMARY KEY (${columns.map(quoteIdentifier).join(', ')})`,
      );
      continue;
    }
    if (isWord(element[i], 'UNIQUE')) {
      const { columns } = columnList(element, skipClustered(element, i + 1));
      const constraint = constraintName ?? generatedName('UQ', table, columns);
      constraints.push({ name: constraint, kind: 'UNIQUE KEY', columns });
      definitions.push(
        `CONSTRAINT ${quoteIdentifier(constraint)} UNIQUE (${columns.map(quoteIdentifier).join(', ')})`,
      );
      continue;
    }
    if (isWord(element[i], 'FOREIGN', 'CHECK')) {
      definitions.push(render(element));
      continue;
    }
    const column = columnDefinition(table, element);
    if (column.identity) identity = { column: column.name, type: column.type, seed: column.identity.seed };
    if (column.primaryKey) {
      const constraint = column.constraintName ?? generatedName('PK', table, [column.name]);
      constraints.push({ name: constraint, kind: 'PRIMARY KEY', columns: [column.name] });
      primaryKeyColumns = [column.name];
    }
    if (column.unique) {
      const constraint = column.uniqueName ?? generatedName('UQ', table, [column.name]);
      constraints.push({ name: constraint, kind: 'UNIQUE KEY', columns: [column.name] });
    }
    definitions.push(column.sql);
  }
  if (identity) {
    // SQLite numbers rows itself only through `INTEGER PRIMARY KEY` (the rowid).
    const key = primaryKeyColumns ?? [identity.column];
    if (key.length !== 1 || key[0]?.toLowerCase() !== identity.column.toLowerCase()) {
      throw sqlErrors.unsupported('IDENTITY on a column that is not the whole PRIMARY KEY');
    }
    if (!primaryKeyColumns)
      constraints.push({ name: generatedName('PK', table, key), kind: 'PRIMARY KEY', columns: key });
    for (let d = 0; d < definitions.length; d++) {
      if (/^CONSTRAINT "[^"]*" PRIMARY KEY/.test(definitions[d] ?? '')) definitions.splice(d--, 1);
    }
  }
  const sql = `CREATE TABLE ${ifNotExists ? 'IF NOT EXISTS ' : ''}${quoteIdentifier(table)} (${definitions.join(', ')})`;
  return {
    sql,
    ddl: { kind: 'createTable', table, ifNotExists, ...(identity ? { identity } : {}), constraints },
  };
}

interface ColumnDefinition {
  readonly name: string;
  readonly type: SqlType;
  readonly sql: string;
  readonly identity?: { readonly seed: number };
  readonly primaryKey: boolean;
  readonly constraintName?: string;
  readonly unique: boolean;
  readonly uniqueName?: string;
}

function columnDefinition(table: string, element: readonly Token[]): ColumnDefinition {
  const column = name(element[0]);
  const { type, end } = readType(element, 1);
  const parts: string[] = [];
  let identity: { seed: number } | undefined;
  let primaryKey = false;
  let unique = false;
  let constraintName: string | undefined;
  let uniqueName: string | undefined;
  let pendingName: string | undefined;
  for (let i = end; i < element.length;) {
    const token = element[i];
    if (isWord(token, 'IDENTITY')) {
      identity = { seed: 1 };
      i++;
      if (isSymbol(element[i], '(')) {
        const close = closing(element, i);
        const [seed, increment] = element
          .slice(i + 1, close)
          .filter((part) => part.kind === 'number')
          .map((part) => Number(part.text));
        if ((increment ?? 1) !== 1) throw sqlErrors.unsupported('IDENTITY with an increment other than 1');
        identity = { seed: seed ?? 1 };
        i = close + 1;
      }
      if (!['tinyint', 'smallint', 'int', 'bigint'].includes(type.name)) {
        throw sqlErrors.unsupported(`IDENTITY on ${formatSqlType(type)}`);
      }
    } else if (isWord(token, 'CONSTRAINT')) {
      pendingName = name(element[i + 1]);
      i += 2;
    } else if (isWord(token, 'NOT') && isWord(element[i + 1], 'NULL')) {
      parts.push('NOT NULL');
      i += 2;
    } else if (isWord(token, 'NULL')) {
      i++;
    } else if (isWord(token, 'PRIMARY') && isWord(element[i + 1], 'KEY')) {
      primaryKey = true;
      constraintName = pendingName;
      pendingName = undefined;
      i = skipClustered(element, i + 2);
    } else if (isWord(token, 'UNIQUE')) {
      unique = true;
      uniqueName = pendingName;
      pendingName = undefined;
      i = skipClustered(element, i + 1);
    } else if (isWord(token, 'DEFAULT')) {
      let j = i + 1;
      while (j < element.length && !isOption(element, j))
        j = isSymbol(element[j], '(') ? closing(element, j) + 1 : j + 1;
      parts.push(`DEFAULT (${render(element.slice(i + 1, j))})`);
      pendingName = undefined;
      i = j;
    } else if (isWord(token, 'COLLATE')) {
      i += 2;
    } else if (isWord(token, 'CHECK', 'REFERENCES')) {
      let j = i + 1;
      while (j < element.length && !isOption(element, j))
        j = isSymbol(element[j], '(') ? closing(element, j) + 1 : j + 1;
      parts.push(render(element.slice(i, j)));
      i = j;
    } else {
      throw sqlErrors.syntax(token?.text ?? '');
    }
  }
  const declared = identity ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : sqliteType(type);
  const constraintSql = [
    ...(primaryKey && !identity
      ? [`CONSTRAINT ${quoteIdentifier(constraintName ?? generatedName('PK', table, [column]))} PRIMARY KEY`]
      : []),
    ...(unique
      ? [`CONSTRAINT ${quoteIdentifier(uniqueName ?? generatedName('UQ', table, [column]))} UNIQUE`]
      : []),
  ];
  return {
    name: column,
    type,
    sql: [quoteIdentifier(column), declared, ...constraintSql, ...parts].join(' '),
    ...(identity ? { identity } : {}),
    primaryKey: primaryKey || identity !== undefined,
    ...(constraintName ? { constraintName } : {}),
    unique,
    ...(uniqueName ? { uniqueName } : {}),
  };
}

const OPTION_WORDS = [
  'NOT',
  'NULL',
  'PRIMARY',
  'UNIQUE',
  'DEFAULT',
  'CONSTRAINT',
  'IDENTITY',
  'CHECK',
  'REFERENCES',
  'COLLATE',
];
const isOption = (tokens: readonly Token[], at: number): boolean =>
  isWord(tokens[at], ...OPTION_WORDS) && !(isWord(tokens[at], 'NULL') && isWord(tokens[at - 1], 'NOT'));

export function createIndex(tokens: readonly Token[]): DdlStatement {
  // CREATE [UNIQUE] [CLUSTERED|NONCLUSTERED] INDEX name ON table (cols) [INCLUDE (…)] [WHERE …] [WITH (…)]
  let at = 1;
  const unique = isWord(tokens[at], 'UNIQUE');
  if (unique) at++;
  at = skipClustered(tokens, at);
  if (!isWord(tokens[at], 'INDEX')) throw sqlErrors.syntax(tokens[at]?.text ?? '');
  const index = name(tokens[at + 1]);
  if (!isWord(tokens[at + 2], 'ON')) throw sqlErrors.syntax(tokens[at + 2]?.text ?? '');
  const table = name(tokens[at + 3]);
  const { columns, end } = columnList(tokens, at + 4);
  const directions = tokens.slice(at + 5, end - 1);
  let rest = end;
  if (isWord(tokens[rest], 'INCLUDE')) rest = closing(tokens, rest + 1) + 1;
  let where = '';
  if (isWord(tokens[rest], 'WHERE')) {
    let stop = rest + 1;
    while (stop < tokens.length && !isWord(tokens[stop], 'WITH')) stop++;
    where = ` WHERE ${render(tokens.slice(rest + 1, stop))}`;
  }
  const sql =
    `CREATE ${unique ? 'UNIQUE ' : ''}INDEX ${quoteIdentifier(indexName(table, index))} ` +
    `ON ${quoteIdentifier(table)} (${render(directions)})${where}`;
  return { sql, ddl: { kind: 'createIndex', table, index: { name: index, kind: 'INDEX', columns }, unique } };
}

export function dropTable(tokens: readonly Token[]): DdlStatement {
  // DROP TABLE [IF EXISTS] a [, b …]
  let at = 2;
  const ifExists = isWord(tokens[at], 'IF') && isWord(tokens[at + 1], 'EXISTS');
  if (ifExists) at += 2;
  const tables = tokens
    .slice(at)
    .filter((token) => !isSymbol(token, ','))
    .map((token) => name(token));
  const sql = tables
    .map((table) => `DROP TABLE ${ifExists ? 'IF EXISTS ' : ''}${quoteIdentifier(table)}`)
    .join('; ');
  return { sql, ddl: { kind: 'dropTable', tables } };
}

export function dropIndex(tokens: readonly Token[]): DdlStatement {
  // DROP INDEX [IF EXISTS] name ON table | DROP INDEX table.name
  let at = 2;
  const ifExists = isWord(tokens[at], 'IF') && isWord(tokens[at + 1], 'EXISTS');
  if (ifExists) at += 2;
  let table: string;
  let index: string;
  if (isSymbol(tokens[at + 1], '.')) {
    table = name(tokens[at]);
    index = name(tokens[at + 2]);
  } else {
    index = name(tokens[at]);
    if (!isWord(tokens[at + 1], 'ON')) throw sqlErrors.syntax(tokens[at + 1]?.text ?? index);
    table = name(tokens[at + 2]);
  }
  return {
    sql: `DROP INDEX ${ifExists ? 'IF EXISTS ' : ''}${quoteIdentifier(indexName(table, index))}`,
    ddl: { kind: 'dropIndex', table, name: index },
  };
}

export function truncateTable(tokens: readonly Token[]): DdlStatement {
  const table = name(tokens[2]);
  return { sql: `DELETE FROM ${quoteIdentifier(table)}`, ddl: { kind: 'truncate', table } };
}

/** ALTER TABLE t ADD column definition (one column). */
export function alterTableAdd(tokens: readonly Token[]): string {
  const table = name(tokens[2]);
  if (!isWord(tokens[3], 'ADD')) throw sqlErrors.unsupported(`ALTER TABLE ${tokens[3]?.text ?? ''}`);
  const column = columnDefinition(table, tokens.slice(4));
  if (column.identity || column.primaryKey || column.unique) {
    throw sqlErrors.unsupported('ALTER TABLE ADD with IDENTITY, PRIMARY KEY or UNIQUE');
  }
  return `ALTER TABLE ${quoteIdentifier(table)} ADD COLUMN ${column.sql}`;
}
