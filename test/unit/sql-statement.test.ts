import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isInfraError, type InfraError } from '../../src/ports/errors.ts';
import { checkValue, renderSql, sql, SqlJson } from '../../src/ports/sql.ts';

/** A predicate for assert.throws: an InfraError('validation'), not retryable, whose message matches. */
const validation =
  (message: RegExp) =>
  (error: unknown): boolean => {
    assert.ok(isInfraError(error), `expected an InfraError, got ${String(error)}`);
    const infra: InfraError = error;
    assert.equal(infra.reason, 'validation');
    assert.equal(infra.retryable, false);
    assert.match(infra.message, message);
    return true;
  };

describe('the sql tag', () => {
  const id = 7;
  const name = "O'Brien; DROP TABLE t; --";
  const statement = sql`SELECT * FROM ${sql.id('app', 'greetings')} WHERE id = ${id} AND name = ${name}${sql` AND ok = ${true}`}`;

  it('renders PostgreSQL placeholders and quoted identifiers, values apart from the text', () => {
    assert.deepEqual(renderSql(statement, 'postgres'), {
      text: 'SELECT * FROM "app"."greetings" WHERE id = $1 AND name = $2 AND ok = $3',
      values: [7, name, true],
    });
  });

  it('renders SQL Server placeholders and bracketed identifiers', () => {
    assert.deepEqual(renderSql(statement, 'mssql'), {
      text: 'SELECT * FROM [app].[greetings] WHERE id = @p1 AND name = @p2 AND ok = @p3',
      values: [7, name, true],
    });
  });

  it('joins values and fragments, and renders the empty fragment as nothing', () => {
    const rows = sql.join([sql`(${1}, ${'a'})`, sql`(${2}, ${'b'})`]);
    assert.deepEqual(renderSql(sql`INSERT INTO t VALUES ${rows}${sql.empty}`, 'postgres'), {
      text: 'INSERT INTO t VALUES ($1, $2), ($3, $4)',
      values: [1, 'a', 2, 'b'],
    });
    assert.deepEqual(renderSql(sql`IN (${sql.join([])})`, 'mssql'), { text: 'IN ()', values: [] });
  });

  it('renders sql.values rows as parenthesised lists in both dialects, numbering on from what precedes', () => {
    const rows = sql.values([
      [1, 'a', null],
      [2, "b'); DROP TABLE t; --", true],
    ]);
    assert.deepEqual(renderSql(sql`INSERT INTO ${sql.id('t')} VALUES ${rows} -- ${0}`, 'postgres'), {
      text: 'INSERT INTO "t" VALUES ($1, $2, $3), ($4, $5, $6) -- $7',
      values: [1, 'a', null, 2, "b'); DROP TABLE t; --", true, 0],
    });
    assert.equal(renderSql(sql`VALUES ${rows}`, 'mssql').text, 'VALUES (@p1, @p2, @p3), (@p4, @p5, @p6)');
  });

  it('refuses sql.values without rows, with ragged rows, or with a value that is no SQL value', () => {
    assert.throws(() => sql.values([]), validation(/at least one row/));
    assert.throws(() => sql.values('x' as unknown as unknown[][]), validation(/expected an array of rows/));
    assert.throws(() => sql.values([[]]), validation(/row 1 is not a non-empty array/));
    assert.throws(() => sql.values([[1, 2], [3]]), validation(/row 2 is not an array of 2 values/));
    assert.throws(() => sql.values([[1], 'x' as unknown as unknown[]]), validation(/row 2/));
    assert.throws(
      () => renderSql(sql`VALUES ${sql.values([[1], [{}]])}`, 'postgres'),
      validation(/parameter 2: an object/),
    );
  });

  it('numbers placeholders past any cache: 70,000 parameters render $70000 last', () => {
    const rows = sql.values(Array.from({ length: 70_000 }, (_, i) => [i]));
    const { text, values } = renderSql(sql`VALUES ${rows}`, 'postgres');
    assert.equal(values.length, 70_000);
    assert.ok(text.endsWith(', ($69999), ($70000)'), text.slice(-40));
  });

  it('keeps JSON as a marked parameter', () => {
    const { values } = renderSql(sql`SELECT ${sql.json({ a: 1 })}`, 'postgres');
    assert.ok(values[0] instanceof SqlJson);
  });

  it('refuses identifiers that are not plain names', () => {
    for (const bad of ['', '1a', 'a b', 'a"b', 'a]b', 'a;b', 'x'.repeat(64), 'é']) {
      assert.throws(
        () => sql.id(bad),
        validation(/not an SQL identifier: .*expected letters, digits and _/),
        bad,
      );
    }
    assert.throws(() => sql.id('a; drop table x'), validation(/not an SQL identifier: "a; drop table x"/));
    assert.throws(() => sql.id(7 as unknown as string), validation(/not an SQL identifier: 7/));
    assert.throws(() => sql.id(), validation(/one to three parts/));
    assert.throws(() => sql.id('a', 'b', 'c', 'd'), validation(/one to three parts/));
    assert.doesNotThrow(() => sql.id('_ok', 'Name_2'));
  });

  it('refuses values that are no SQL value, naming their position', () => {
    const cases: [unknown, RegExp][] = [
      [undefined, /parameter 2: undefined/],
      [{}, /parameter 2: an object/],
      [[1], /parameter 2: an array/],
      [Number.POSITIVE_INFINITY, /parameter 2: Infinity/],
      [new Date(Number.NaN), /parameter 2: an invalid Date/],
      [() => 1, /parameter 2: a function/],
      [Symbol('s'), /parameter 2: a symbol/],
    ];
    for (const [value, message] of cases) {
      assert.throws(() => renderSql(sql`SELECT ${1}, ${value}`, 'postgres'), validation(message));
      assert.throws(() => checkValue(value, 2), validation(message));
    }
    assert.throws(
      () => renderSql(sql`SELECT ${Number.NaN}`, 'mssql'),
      validation(/parameter 1: NaN is not a finite number \(expected/),
    );
    assert.throws(
      () => checkValue(undefined, 3),
      validation(/parameter 3: undefined \(pass null for NULL\)/),
    );
  });
});
