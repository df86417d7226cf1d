/**
 * SQL statements as data: text split around parameters, so a value a caller passes is always a
 * bound parameter and never part of the SQL text. Each adapter renders a statement in its own
 * dialect (`$1` for PostgreSQL, `@p1` for SQL Server).
 */

/** A JSON document as a parameter (`sql.json(value)`): stored as the dialect's JSON or text. */
export class SqlJson {
  readonly value: unknown;
  constructor(value: unknown) {
    this.value = value;
  }
}

/**
 * What a parameter may be. Decimals are passed and read as strings (exact); bigint columns read
 * as `bigint`; timestamps as `Date` (UTC); bytes as `Uint8Array`.
 */
export type SqlValue = null | string | number | bigint | boolean | Date | Uint8Array | SqlJson;

/** Letters, digits and `_`, not starting with a digit, at most 63 characters (PostgreSQL's limit). */
const identifierPattern = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** A checked name of a table, column or schema (`sql.id('app', 'greetings')`), quoted per dialect. */
export class SqlIdentifier {
  readonly parts: readonly string[];
  constructor(parts: readonly string[]) {
    if (parts.length === 0 || parts.length > 3) {
      throw new TypeError('an SQL identifier has one to three parts');
    }
    for (const part of parts) {
      if (typeof part !== 'string' || !identifierPattern.test(part)) {
        throw new TypeError(
          `not an SQL identifier: ${JSON.stringify(String(part)).slice(0, 80)} (letters, digits and _, not starting with a digit, at most 63 characters)`,
        );
      }
    }
    this.parts = parts;
  }
}

/** A statement or a fragment of one: `strings.length === values.length + 1`. */
export class SqlStatement {
  readonly strings: readonly string[];
  readonly values: readonly unknown[];
  constructor(strings: readonly string[], values: readonly unknown[]) {
    this.strings = strings;
    this.values = values;
  }
}

/** Text in the dialect's own placeholders (`$1`, `@p1`) with its parameters. */
export interface SqlText {
  readonly text: string;
  readonly values?: readonly SqlValue[];
}

/** What `query`, `execute` and `stream` take. */
export type SqlInput = SqlStatement | SqlText;

export type SqlDialect = 'postgres' | 'mssql';

/** A statement ready for a driver. */
export interface RenderedSql {
  readonly text: string;
  readonly values: readonly SqlValue[];
}

interface SqlTag {
  (strings: TemplateStringsArray, ...values: unknown[]): SqlStatement;
  /** A checked identifier: `sql.id('greetings')`, `sql.id('app', 'greetings')`. */
  id(...parts: string[]): SqlIdentifier;
  /** A JSON parameter. */
  json(value: unknown): SqlJson;
  /** Values or fragments joined by `separator` (default `, `): `IN (${sql.join(ids)})`. */
  join(items: readonly unknown[], separator?: string): SqlStatement;
  /** The empty fragment, for optional clauses. */
  readonly empty: SqlStatement;
}

/**
 * The tagged template: ``sql`SELECT * FROM ${sql.id('t')} WHERE id = ${id}` ``. Interpolated
 * values become parameters; `SqlStatement` fragments and `SqlIdentifier`s are inlined.
 */
export const sql: SqlTag = Object.assign(
  // The template's strings array is frozen and shared by every call of one tag site: kept, not copied.
  (strings: TemplateStringsArray, ...values: unknown[]) => new SqlStatement(strings, values),
  {
    id: (...parts: string[]) => new SqlIdentifier(parts),
    json: (value: unknown) => new SqlJson(value),
    join(items: readonly unknown[], separator = ', '): SqlStatement {
      if (items.length === 0) return new SqlStatement([''], []);
      return new SqlStatement(['', ...items.slice(1).map(() => separator), ''], items);
    },
    empty: new SqlStatement([''], []),
  },
);

export function isSqlStatement(value: unknown): value is SqlStatement {
  return value instanceof SqlStatement;
}

const quoteIdentifier: Record<SqlDialect, (part: string) => string> = {
  postgres: (part) => `"${part}"`,
  mssql: (part) => `[${part}]`,
};
const placeholder: Record<SqlDialect, (index: number) => string> = {
  postgres: (index) => `$${index}`,
  mssql: (index) => `@p${index}`,
};

/**
 * Renders a statement in a dialect. A value that is no `SqlValue` (a plain object, an array, a
 * function, a symbol, a non-finite number) throws a `TypeError` naming its position.
 */
export function renderSql(statement: SqlStatement, dialect: SqlDialect): RenderedSql {
  const values: SqlValue[] = [];
  let text = '';
  const quote = quoteIdentifier[dialect];
  const mark = placeholder[dialect];
  const visit = (fragment: SqlStatement): void => {
    text += fragment.strings[0];
    for (let index = 0; index < fragment.values.length; index++) {
      const value = fragment.values[index];
      if (value instanceof SqlStatement) visit(value);
      else if (value instanceof SqlIdentifier) text += value.parts.map(quote).join('.');
      else {
        values.push(checkValue(value, values.length + 1));
        text += mark(values.length);
      }
      text += fragment.strings[index + 1];
    }
  };
  visit(statement);
  return { text, values };
}

/** Checks one parameter; `position` counts from 1, as placeholders do. */
export function checkValue(value: unknown, position: number): SqlValue {
  if (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'bigint' ||
    typeof value === 'boolean' ||
    value instanceof Uint8Array ||
    value instanceof SqlJson
  ) {
    return value;
  }
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    throw new TypeError(`parameter ${position}: ${value} is not a finite number`);
  }
  if (value instanceof Date) {
    if (Number.isFinite(value.getTime())) return value;
    throw new TypeError(`parameter ${position}: an invalid Date`);
  }
  if (value === undefined) throw new TypeError(`parameter ${position}: undefined (pass null for NULL)`);
  const kind = Array.isArray(value)
    ? 'an array'
    : typeof value === 'object'
      ? 'an object'
      : `a ${typeof value}`;
  throw new TypeError(
    `parameter ${position}: ${kind} is not an SQL value (wrap JSON in sql.json(), lists in sql.join())`,
  );
}
