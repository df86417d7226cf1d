// A statement refused by the checks of src/ports/sql.ts, inside a guarded call: the caller gets
// InfraError('validation') with the port and the operation set, and the driver is never asked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isInfraError, type InfraError } from '../../src/ports/errors.ts';
import type { SqlAdapter, SqlSession } from '../../src/ports/sql-database.ts';
import { sql, type SqlInput } from '../../src/ports/sql.ts';
import { guardSqlDatabase } from '../../src/runtime/sql/guarded-sql-database.ts';
import { createLogger, createRuntime } from '../../src/runtime/runtime.ts';

function recordingAdapter(): { adapter: SqlAdapter; statements: string[] } {
  const statements: string[] = [];
  const session: SqlSession = {
    query: (statement) => {
      statements.push(statement.text);
      return Promise.resolve({ rows: [], rowCount: 0 });
    },
    commit: () => Promise.resolve(),
    rollback: () => {
      statements.push('ROLLBACK');
      return Promise.resolve();
    },
    release: () => undefined,
  };
  const adapter: SqlAdapter = {
    system: 'postgresql',
    dialect: 'postgres',
    poolSize: 2,
    query: (statement) => session.query(statement, { signal: new AbortController().signal }),
    begin: () => {
      statements.push('BEGIN');
      return Promise.resolve(session);
    },
    open: () => Promise.reject(new Error('not used')),
    poolStatus: () => ({ size: 2, idle: 2, busy: 0 }),
    probe: () => Promise.resolve({ status: 'up' }),
    classifyError: () => ({ reason: 'internal' }),
    close: () => Promise.resolve(),
  };
  return { adapter, statements };
}

async function validationOf(promise: Promise<unknown>): Promise<InfraError> {
  const error = await promise.then(
    () => assert.fail('expected a rejection'),
    (caught: unknown) => caught,
  );
  assert.ok(isInfraError(error), `expected an InfraError, got ${String(error)}`);
  assert.equal(error.reason, 'validation', error.message);
  assert.equal(error.retryable, false);
  assert.equal(error.port, 'sql-database');
  return error;
}

describe('guardSqlDatabase: statements the sql checks refuse', () => {
  const runtime = createRuntime({ logger: createLogger({ level: 'silent' }) });

  it('reaches the caller as validation with port and operation, before any I/O', async () => {
    const { adapter, statements } = recordingAdapter();
    const db = guardSqlDatabase(adapter, {}, runtime);
    const cases: [string, () => Promise<unknown>, RegExp][] = [
      [
        'query NaN',
        () => db.query(sql`SELECT ${Number.NaN}`),
        /statement: parameter 1: NaN is not a finite number/,
      ],
      [
        'execute invalid Date',
        () => db.execute(sql`SELECT ${1}, ${new Date(Number.NaN)}`),
        /statement: parameter 2: an invalid Date/,
      ],
      [
        'query undefined in sql.values',
        () => db.query(sql`VALUES ${sql.values([[1], [undefined]])}`),
        /parameter 2: undefined/,
      ],
      [
        'text values',
        () => db.query({ text: 'SELECT $1', values: [Symbol('s') as unknown as string] }),
        /parameter 1: a symbol/,
      ],
      [
        'text without text',
        () => db.execute({ values: [] } as unknown as SqlInput),
        /statement: expected sql`…`, or \{ text, values \}/,
      ],
    ];
    for (const [name, call, message] of cases) {
      const error = await validationOf(call());
      assert.match(error.message, message, name);
      assert.match(error.message, /^sql\S* (query|execute): /, name);
      assert.equal(
        error.operation,
        /^query/.test(name) || name === 'text values' ? 'query' : 'execute',
        name,
      );
    }
    const rows = db.stream(sql`SELECT ${Number.POSITIVE_INFINITY}`)[Symbol.asyncIterator]();
    assert.equal((await validationOf(rows.next())).operation, 'stream');
    assert.deepEqual(statements, []);
    await db.close();
  });

  it('inside a transaction too, where the statement is refused and the transaction rolled back', async () => {
    const { adapter, statements } = recordingAdapter();
    const db = guardSqlDatabase(adapter, {}, runtime);
    const error = await validationOf(
      db.transaction(async (tx) => tx.execute(sql`UPDATE t SET a = ${() => 1}`), { maxAttempts: 3 }),
    );
    assert.equal(error.operation, 'execute');
    assert.match(error.message, /parameter 1: a function is not an SQL value \(expected null, a string/);
    assert.deepEqual(
      statements.filter((text) => text !== 'BEGIN'),
      ['ROLLBACK'],
      'nothing but the rollback reached the driver, and the transaction was not run again',
    );
    await db.close();
  });
});
