/**
 * SQL statements as data: text split around parameters, so a value a caller passes is always a
 * bound parameter and never part of the SQL text. Each adapter renders a statement in its own
 * dialect (`$1` for PostgreSQL, `@p1` for SQL Server). Misuse of the helpers (`sql.id`,
 * `sql.values`) and a value that is no `SqlValue` throw `InfraError('validation')`, never retryable;
 * inside a port call it reaches the caller with the port and operation set.
 */
import { InfraError } from './errors.ts';

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

/** What the helpers throw: a `validation` error saying what was expected. */
function invalidSql(message: string): InfraError {
  return new InfraError('validation', message, { retryable: false });
}

/** Letters, digits and `_`, not starting with a digit, at most 63 characters (PostgreSQL's limit). */
const identifierPattern = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

const quoteIdentifier: Record<SqlDialect, (part: string) => string> = {
  postgres: (part) => `"${part}"`,
  mssql: (part) => `[${part}]`,
};

/** A checked name of a table, column or schema (`sql.id('app', 'greetings')`), quoted per dialect. */
export class SqlIdentifier {
  readonly parts: readonly string[];
  constructor(parts: readonly string[]) {
    if (parts.length === 0 || parts.length > 3) {
      throw invalidSql(`sql.id(): expected one to three parts (schema, table, column), got ${parts.length}`);
    }
    for (const part of parts) {
      if (typeof part !== 'string' || !identifierPattern.test(part)) {
        const shown = typeof part === 'string' ? JSON.stringify(part).slice(0, 80) : String(part);
        throw invalidSql(
          `not an SQL identifier: ${shown} (expected letters, digits and _, not starting with a digit, at most 63 characters)`,
        );
      }
    }
    this.parts = parts;
  }

  /** The name quoted for a dialect, made once: an identifier is usually rendered again and again. */
  quoted(dialect: SqlDialect): string {
    const key = dialect === 'postgres' ? 'postgresText' : 'mssqlText';
    return (this.#quoted[key] ??= this.parts.map(quoteIdentifier[dialect]).join('.'));
  }

  readonly #quoted: { postgresText?: string; mssqlText?: string } = {};
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

/** Rows of values for a multi-row `VALUES` list (`sql.values(rows)`): every row as long as the first. */
export class SqlRows {
  readonly rows: readonly (readonly unknown[])[];
  constructor(rows: readonly (readonly unknown[])[]) {
    if (!Array.isArray(rows)) throw invalidSql('sql.values(): expected an array of rows (arrays of values)');
    if (rows.length === 0) throw invalidSql('sql.values(): expected at least one row');
    const width = Array.isArray(rows[0]) ? rows[0].length : 0;
    if (width === 0)
      throw invalidSql('sql.values(): row 1 is not a non-empty array (expected an array of values)');
    rows.forEach((row, index) => {
      if (!Array.isArray(row) || row.length !== width) {
        throw invalidSql(`sql.values(): row ${index + 1} is not an array of ${width} values like row 1`);
      }
    });
    this.rows = rows;
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
  /** Rows of a multi-row insert, each a parenthesised list: `VALUES ${sql.values([[1, 'a'], [2, 'b']])}`. */
  values(rows: readonly (readonly unknown[])[]): SqlRows;
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
    values: (rows: readonly (readonly unknown[])[]) => new SqlRows(rows),
    empty: new SqlStatement([''], []),
  },
);

export function isSqlStatement(value: unknown): value is SqlStatement {
  return value instanceof SqlStatement;
}

// Placeholders made once each: a 1,000-row insert renders thousands of them.
const placeholders: Record<SqlDialect, string[]> = { postgres: [''], mssql: [''] };
// PostgreSQL's limit of parameters a statement: past it nothing is kept.
const maxCachedPlaceholder = 65_535;
const placeholderPrefix: Record<SqlDialect, string> = { postgres: '$', mssql: '@p' };

/** Collects a statement's text and parameters as its fragments are visited. */
class Rendering {
  text = '';
  readonly values: SqlValue[] = [];
  readonly #dialect: SqlDialect;
  readonly #marks: string[];
  constructor(dialect: SqlDialect) {
    this.#dialect = dialect;
    this.#marks = placeholders[dialect];
  }

  fragment(fragment: SqlStatement): void {
    const { strings, values } = fragment;
    this.text += strings[0];
    for (let index = 0; index < values.length; index++) {
      const value = values[index];
      if (value instanceof SqlStatement) this.fragment(value);
      else if (value instanceof SqlRows) this.rows(value);
      else if (value instanceof SqlIdentifier)
        this.text += value.parts.map(quoteIdentifier[this.#dialect]).join('.');
      else this.text += this.parameter(value);
      this.text += strings[index + 1];
    }
  }

  rows({ rows }: SqlRows): void {
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      let tuple = r === 0 ? '(' : ', (';
      for (let c = 0; c < row.length; c++) tuple += (c === 0 ? '' : ', ') + this.parameter(row[c]);
      this.text += tuple + ')';
    }
  }

  /** Checks and records a value; returns its placeholder. */
  parameter(value: unknown): string {
    const position = this.values.push(checkValue(value, this.values.length + 1));
    const cached = this.#marks[position];
    if (cached !== undefined) return cached;
    const mark = placeholderPrefix[this.#dialect] + position;
    if (position <= maxCachedPlaceholder) this.#marks[position] = mark;
    return mark;
  }
}

/**
 * Renders a statement in a dialect. A value that is no `SqlValue` (a plain object, an array, a
 * function, a symbol, a non-finite number) throws `InfraError('validation')` naming its position.
 */
export function renderSql(statement: SqlStatement, dialect: SqlDialect): RenderedSql {
  const rendering = new Rendering(dialect);
  rendering.fragment(statement);
  return { text: rendering.text, values: rendering.values };
}

/** Checks one parameter (`InfraError('validation')` if it is no `SqlValue`); `position` counts from 1, as placeholders do. */
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
    throw invalidSql(`parameter ${position}: ${value} is not a finite number (expected a finite number)`);
  }
  if (value instanceof Date) {
    if (Number.isFinite(value.getTime())) return value;
    throw invalidSql(`parameter ${position}: an invalid Date (expected a Date with a time)`);
  }
  if (value === undefined) throw invalidSql(`parameter ${position}: undefined (pass null for NULL)`);
  const kind = Array.isArray(value)
    ? 'an array'
    : typeof value === 'object'
      ? 'an object'
      : `a ${typeof value}`;
  throw invalidSql(
    `parameter ${position}: ${kind} is not an SQL value (expected null, a string, a finite number, a bigint, a boolean, a Date, a Uint8Array or sql.json(); wrap JSON in sql.json(), lists in sql.join())`,
  );
}
