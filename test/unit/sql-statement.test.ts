import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderSql, sql, SqlJson } from '../../src/ports/sql.ts';

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

  it('keeps JSON as a marked parameter', () => {
    const { values } = renderSql(sql`SELECT ${sql.json({ a: 1 })}`, 'postgres');
    assert.ok(values[0] instanceof SqlJson);
  });

  it('refuses identifiers that are not plain names', () => {
    for (const bad of ['', '1a', 'a b', 'a"b', 'a]b', 'a;b', 'x'.repeat(64), 'é']) {
      assert.throws(() => sql.id(bad), TypeError, bad);
    }
    assert.throws(() => sql.id(), TypeError);
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
      assert.throws(() => renderSql(sql`SELECT ${1}, ${value}`, 'postgres'), message);
    }
  });
});
