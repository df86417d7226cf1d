// SQL Server's error numbers, classes (severities) and message wording, so a client's error
// classification (2627 unique, 1222 lock timeout, …) sees what a real server sends.

export class TdsError extends Error {
  readonly number: number;
  readonly severity: number;
  readonly state: number;

  constructor(number: number, message: string, severity = 16, state = 1) {
    super(message);
    this.number = number;
    this.severity = severity;
    this.state = state;
  }
}

const OUTSIDE_SUBSET = '(berth TDS test server: outside the emulated T-SQL subset)';

export const sqlErrors = {
  syntax: (near: string): TdsError =>
    new TdsError(102, `Incorrect syntax near '${near.slice(0, 60)}'. ${OUTSIDE_SUBSET}`, 15),
  unsupported: (what: string): TdsError =>
    new TdsError(102, `Incorrect syntax near '${what.slice(0, 60)}'. ${OUTSIDE_SUBSET}`, 15),
  invalidObject: (name: string): TdsError => new TdsError(208, `Invalid object name '${name}'.`, 16),
  invalidColumn: (name: string): TdsError => new TdsError(207, `Invalid column name '${name}'.`, 16),
  objectExists: (name: string): TdsError =>
    new TdsError(2714, `There is already an object named '${name}' in the database.`, 16, 6),
  notNull: (column: string, table: string, database: string, verb: string): TdsError =>
    new TdsError(
      515,
      `Cannot insert the value NULL into column '${column}', table '${database}.dbo.${table}'; ` +
        `column does not allow nulls. ${verb.toUpperCase()} fails.`,
      16,
      2,
    ),
  duplicateConstraint: (
    kind: 'PRIMARY KEY' | 'UNIQUE KEY',
    constraint: string,
    table: string,
    key?: string,
  ) =>
    new TdsError(
      2627,
      `Violation of ${kind} constraint '${constraint}'. Cannot insert duplicate key in object 'dbo.${table}'.` +
        (key === undefined ? '' : ` The duplicate key value is (${key}).`),
      14,
      1,
    ),
  duplicateIndex: (index: string, table: string, key?: string): TdsError =>
    new TdsError(
      2601,
      `Cannot insert duplicate key row in object 'dbo.${table}' with unique index '${index}'.` +
        (key === undefined ? '' : ` The duplicate key value is (${key}).`),
      14,
      1,
    ),
  lockTimeout: (): TdsError => new TdsError(1222, 'Lock request time out period exceeded.', 16, 56),
  loginFailed: (user: string): TdsError => new TdsError(18456, `Login failed for user '${user}'.`, 14, 1),
  cannotOpenDatabase: (database: string): TdsError =>
    new TdsError(4060, `Cannot open database "${database}" requested by the login. The login failed.`, 11, 1),
  overflow: (type: string): TdsError =>
    new TdsError(8115, `Arithmetic overflow error converting expression to data type ${type}.`, 16, 2),
  conversion: (value: string, type: string): TdsError =>
    new TdsError(
      245,
      `Conversion failed when converting the value '${value.slice(0, 60)}' to data type ${type}.`,
      16,
    ),
  truncation: (table: string, column: string): TdsError =>
    new TdsError(
      2628,
      `String or binary data would be truncated in table 'dbo.${table}', column '${column}'.`,
      16,
    ),
  noTransaction: (statement: 'COMMIT' | 'ROLLBACK'): TdsError =>
    statement === 'COMMIT'
      ? new TdsError(3902, 'The COMMIT TRANSACTION request has no corresponding BEGIN TRANSACTION.', 16)
      : new TdsError(3903, 'The ROLLBACK TRANSACTION request has no corresponding BEGIN TRANSACTION.', 16),
  noSavepoint: (name: string): TdsError =>
    new TdsError(6401, `Cannot roll back ${name}. No transaction or savepoint of that name was found.`, 16),
  undeclaredVariable: (name: string): TdsError =>
    new TdsError(137, `Must declare the scalar variable "${name}".`, 15, 2),
  unknownProcedure: (name: string): TdsError =>
    new TdsError(2812, `Could not find stored procedure '${name}'.`, 16, 62),
  applockNotHeld: (resource: string): TdsError =>
    new TdsError(
      1223,
      `Cannot release the application lock (Database Principal: 'public', Resource: '${resource}') ` +
        'because it is not currently held.',
      16,
    ),
  // SQL Server's number for this one is not known here: the internal number, with its wording.
  applockNeedsTransaction: (): TdsError =>
    sqlErrors.internal(
      'You attempted to acquire a transactional application lock without an active transaction.',
    ),
  internal: (message: string): TdsError => new TdsError(50000, `berth TDS test server: ${message}`, 16),
};

/** What the engine knows about the unique indexes of a table, to name the violated one. */
export interface UniqueIndex {
  readonly name: string;
  readonly kind: 'PRIMARY KEY' | 'UNIQUE KEY' | 'INDEX';
  readonly columns: readonly string[];
}

export interface SqliteErrorContext {
  readonly database: string;
  readonly verb: string;
  uniqueIndexes(table: string): readonly UniqueIndex[];
}

/** Turns a node:sqlite error into the SQL Server error a client expects. */
export function fromSqliteError(error: unknown, context: SqliteErrorContext): TdsError {
  if (error instanceof TdsError) return error;
  const message = error instanceof Error ? error.message : String(error);
  let match = /^UNIQUE constraint failed: (.+)$/.exec(message);
  if (match) {
    const qualified = (match[1] ?? '').split(',').map((part) => part.trim());
    const table = (qualified[0] ?? '').split('.')[0] ?? '';
    const columns = qualified.map((part) => part.slice(part.indexOf('.') + 1));
    const index = context.uniqueIndexes(table).find((candidate) => sameColumns(candidate.columns, columns));
    if (index?.kind === 'INDEX') return sqlErrors.duplicateIndex(index.name, table);
    return sqlErrors.duplicateConstraint(
      index?.kind ?? 'UNIQUE KEY',
      index?.name ?? `UQ__${table}__${columns.join('_')}`,
      table,
    );
  }
  if ((match = /^NOT NULL constraint failed: ([^.]+)\.(.+)$/.exec(message))) {
    return sqlErrors.notNull(match[2] ?? '', match[1] ?? '', context.database, context.verb);
  }
  if ((match = /^no such table: (?:main\.)?(.+)$/.exec(message)))
    return sqlErrors.invalidObject(match[1] ?? '');
  if ((match = /^no such column: (.+)$/.exec(message))) return sqlErrors.invalidColumn(match[1] ?? '');
  if ((match = /^table "?([^"]+)"? already exists$/.exec(message)))
    return sqlErrors.objectExists(match[1] ?? '');
  if ((match = /^index "?([^"]+)"? already exists$/.exec(message))) {
    const name = match[1] ?? '';
    return sqlErrors.objectExists(name.slice(name.indexOf('.') + 1));
  }
  if ((match = /^near "([^"]*)": syntax error$/.exec(message))) return sqlErrors.syntax(match[1] ?? '');
  if (/incomplete input$/.test(message)) return sqlErrors.syntax('end of statement');
  if ((match = /^no such function: (.+)$/.exec(message))) {
    return new TdsError(195, `'${match[1]}' is not a recognized built-in function name.`, 15, 10);
  }
  if ((match = /^no such index: (?:[^.]+\.)?(.+)$/.exec(message))) {
    return new TdsError(3701, `Cannot drop the index '${match[1]}', because it does not exist.`, 11, 7);
  }
  return sqlErrors.internal(message);
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const lower = new Set(a.map((name) => name.toLowerCase()));
  return b.every((name) => lower.has(name.toLowerCase()));
}
