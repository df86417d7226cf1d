import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SqlDatabase } from '../ports/sql-database.ts';
import { sql } from '../ports/sql.ts';
import { rejectsWith, throwsWith } from './infra-assertions.ts';
import {
  assertCanary,
  dialectTypes,
  hostileStrings,
  plain,
  withTable,
  type SqlFeatures,
} from './sql-conformance-support.ts';
import { nodeTestApi, type TestApi } from './test-api.ts';

export type { SqlFeatures } from './sql-conformance-support.ts';

export interface SqlConformanceOptions {
  name: string;
  /** A database the suite may create and drop tables in (names unique to the run). */
  create: () => SqlDatabase | Promise<SqlDatabase>;
  features: SqlFeatures;
  test?: TestApi;
}

/** The behaviour every `SqlDatabase` adapter must show, run against every backend. */
export function sqlConformance(options: SqlConformanceOptions): void {
  const { describe, it } = options.test ?? nodeTestApi;
  const { features } = options;
  const run = randomBytes(4).toString('hex');
  let counter = 0;
  const newTable = (): string => `berth_conformance_${run}_${++counter}`;
  const withDb = (fn: (db: SqlDatabase) => Promise<void>) => async (): Promise<void> => {
    const db = await options.create();
    try {
      await fn(db);
    } finally {
      await db.close();
    }
  };

  describe(`sql conformance: ${options.name}`, () => {
    it(
      'has an id and a dialect, and reports health with pool figures',
      withDb(async (db) => {
        assert.match(db.id, /^sql/);
        assert.ok(db.dialect === 'postgres' || db.dialect === 'mssql');
        await db.query(sql`SELECT ${1} AS one`);
        const health = await db.health();
        assert.equal(health.status, 'up', health.error);
        const pool = health.details?.pool as { limit: number; waiting: number } | undefined;
        assert.ok(
          pool !== undefined && pool.limit >= 1 && pool.waiting === 0,
          JSON.stringify(health.details),
        );
      }),
    );

    it(
      'round-trips integers, bigint, decimal, boolean, timestamps, JSON, bytes, NULL and long Unicode text',
      withDb(async (db) => {
        const t = dialectTypes[db.dialect];
        const table = newTable();
        const columns = `id ${t.int} PRIMARY KEY, big ${t.bigint}, amount ${t.decimal}, ok ${t.bool}, at ${t.time}, doc ${t.json}, bin ${t.bytes}, body ${t.text}`;
        await withTable(db, table, columns, async () => {
          const digits = Math.min(features.decimalDigits, 38);
          const amount = digits >= 38 ? '1234567890123456789012345678.0123456789' : '12345678.9012345';
          const longText = `${'Grüße, 世界 🎉 '.repeat(800)}end`;
          const doc = { name: "O'Brien", tags: ['a', 'b'], nested: { n: 1.5, none: null } };
          const at = new Date(Date.UTC(2026, 10, 29, 23, 59, 58, 123));
          const bytes = new Uint8Array([0, 1, 127, 128, 255]);
          const big = 2n ** 62n + 7n;
          await db.execute(
            sql`INSERT INTO ${sql.id(table)} (id, big, amount, ok, at, doc, bin, body) VALUES (${1}, ${big}, ${amount}, ${true}, ${at}, ${sql.json(doc)}, ${bytes}, ${longText})`,
          );
          await db.execute(
            sql`INSERT INTO ${sql.id(table)} (id, big, amount, ok, at, doc, bin, body) VALUES (${2}, ${-5n}, ${'-0.5'}, ${false}, ${null}, ${null}, ${null}, ${null})`,
          );
          const rows = await db.query(sql`SELECT * FROM ${sql.id(table)} ORDER BY id`);
          const [first, second] = rows;
          assert.ok(first !== undefined && second !== undefined);
          assert.equal(first.id, 1);
          assert.equal(first.big, big);
          assert.equal(typeof first.amount, 'string');
          assert.equal(Number(first.amount), Number(amount));
          assert.equal(trimDecimal(first.amount as string), trimDecimal(amount));
          assert.equal(first.ok, true);
          assert.ok(first.at instanceof Date);
          assert.equal(first.at.toISOString(), at.toISOString());
          const readDoc: unknown = features.jsonParsed ? first.doc : JSON.parse(first.doc as string);
          assert.deepEqual(readDoc, doc);
          assert.ok(first.bin instanceof Uint8Array);
          assert.deepEqual([...first.bin], [...bytes]);
          assert.equal(first.body, longText);
          assert.deepEqual(plain([second]), [
            { id: 2, big: -5n, amount: second.amount, ok: false, at: null, doc: null, bin: null, body: null },
          ]);
          assert.equal(trimDecimal(second.amount as string), '-0.5');
        });
      }),
    );

    it(
      'execute counts rows affected (sql.join and sql.values inserts); query returns the rows of a statement',
      withDb(async (db) => {
        const t = dialectTypes[db.dialect];
        const table = newTable();
        await withTable(db, table, `id ${t.int} PRIMARY KEY, name ${t.key}`, async () => {
          const values = sql.join([1, 2, 3].map((id) => sql`(${id}, ${`n${id}`})`));
          assert.equal(await db.execute(sql`INSERT INTO ${sql.id(table)} (id, name) VALUES ${values}`), 3);
          const more = sql.values([
            [4, 'n4'],
            [5, 'n5'],
          ]);
          assert.equal(await db.execute(sql`INSERT INTO ${sql.id(table)} (id, name) VALUES ${more}`), 2);
          assert.equal(await db.execute(sql`DELETE FROM ${sql.id(table)} WHERE id >= ${4}`), 2);
          assert.equal(await db.execute(sql`UPDATE ${sql.id(table)} SET name = ${'x'} WHERE id >= ${2}`), 2);
          assert.equal(await db.execute(sql`DELETE FROM ${sql.id(table)} WHERE id = ${3}`), 1);
          const rows = await db.query<{ id: number; name: string }>(
            sql`SELECT id, name FROM ${sql.id(table)} WHERE id IN (${sql.join([1, 2, 3])}) ORDER BY id`,
          );
          assert.deepEqual(plain(rows), [
            { id: 1, name: 'n1' },
            { id: 2, name: 'x' },
          ]);
          const text =
            db.dialect === 'postgres'
              ? 'SELECT name FROM ' + table + ' WHERE id = $1'
              : `SELECT name FROM ${table} WHERE id = @p1`;
          assert.deepEqual(plain(await db.query({ text, values: [1] })), [{ name: 'n1' }]);
        });
      }),
    );

    it(
      'stores a hostile string in every parameter position as data (a canary table survives)',
      withDb(async (db) => {
        const t = dialectTypes[db.dialect];
        const table = newTable();
        const canary = newTable();
        await withTable(db, canary, `id ${t.key} PRIMARY KEY`, async () => {
          await db.execute(sql`INSERT INTO ${sql.id(canary)} (id) VALUES (${'alive'})`);
          await withTable(db, table, `id ${t.int} PRIMARY KEY, a ${t.text}, b ${t.key}`, async () => {
            let id = 0;
            for (const hostile of hostileStrings) {
              id++;
              await db.execute(
                sql`INSERT INTO ${sql.id(table)} (id, a, b) VALUES (${id}, ${hostile}, ${hostile})`,
              );
              const [row] = await db.query<{ a: string; b: string; echo: string }>(
                sql`SELECT a, b, ${hostile} AS echo FROM ${sql.id(table)} WHERE a = ${hostile} AND b = ${hostile} AND id = ${id}`,
              );
              assert.deepEqual(row && { a: row.a, b: row.b, echo: row.echo }, {
                a: hostile,
                b: hostile,
                echo: hostile,
              });
              await db.execute(sql`UPDATE ${sql.id(table)} SET a = ${hostile} WHERE b = ${hostile}`);
            }
            await assertCanary(db, canary);
          });
        });
        throwsWith(() => sql.id(`${canary}; DROP TABLE x`), 'validation');
        throwsWith(() => sql.id('a"b'), 'validation');
      }),
    );

    it(
      'refuses bad input as a validation error naming it, before any I/O',
      withDb(async (db) => {
        const cases: [string, Promise<unknown>, RegExp][] = [
          ['undefined', db.query(sql`SELECT ${undefined as unknown as null} AS x`), /parameter 1: undefined/],
          ['object', db.query(sql`SELECT ${{ a: 1 }} AS x`), /parameter 1: an object/],
          ['array', db.execute(sql`SELECT ${1}, ${[1, 2]}`), /parameter 2: an array/],
          ['NaN', db.query(sql`SELECT ${Number.NaN} AS x`), /parameter 1: NaN/],
          ['empty text', db.query({ text: '  ' }), /statement/],
          [
            'bad isolation',
            db.transaction(() => Promise.resolve(1), { isolation: 'chaos' as 'serializable' }),
            /isolation/,
          ],
          ['bad attempts', db.transaction(() => Promise.resolve(1), { maxAttempts: 0 }), /maxAttempts/],
          [
            'duplicate migration',
            db.migrate([
              { id: 'a', sql: 'x' },
              { id: 'a', sql: 'y' },
            ]),
            /appears twice/,
          ],
          ['migration id', db.migrate([{ id: '../x', sql: 'x' }]), /migrations\[0\]\.id/],
        ];
        for (const [name, promise, message] of cases) {
          const error = await rejectsWith(promise, 'validation');
          assert.match(error.message, message, name);
        }
        // A refused parameter names the port and the operation, and is never retried.
        const refused = await rejectsWith(db.execute(sql`SELECT ${new Date(Number.NaN)} AS x`), 'validation');
        assert.deepEqual(
          { port: refused.port, operation: refused.operation, retryable: refused.retryable },
          { port: 'sql-database', operation: 'execute', retryable: false },
        );
        assert.match(refused.message, /statement: parameter 1: an invalid Date/);
        const stream = db.stream(sql`SELECT ${1} AS x`, { batchSize: 0 });
        await rejectsWith(stream[Symbol.asyncIterator]().next(), 'validation');
      }),
    );

    it(
      'classifies errors: a syntax error is validation, a duplicate key is a conflict that is not retried',
      withDb(async (db) => {
        const t = dialectTypes[db.dialect];
        await rejectsWith(db.query({ text: 'SELEC nonsense' }), 'validation');
        await rejectsWith(db.query({ text: `SELECT * FROM ${newTable()}` }), 'validation');
        const table = newTable();
        await withTable(db, table, `id ${t.int} PRIMARY KEY`, async () => {
          await db.execute(sql`INSERT INTO ${sql.id(table)} (id) VALUES (${1})`);
          const error = await rejectsWith(
            db.execute(sql`INSERT INTO ${sql.id(table)} (id) VALUES (${1})`),
            'conflict',
          );
          assert.equal(error.retryable, false);
        });
      }),
    );

    it(
      'commits when the function resolves and rolls back when it throws, keeping the error',
      withDb(async (db) => {
        const t = dialectTypes[db.dialect];
        const table = newTable();
        await withTable(db, table, `id ${t.int} PRIMARY KEY`, async () => {
          const result = await db.transaction(async (tx) => {
            await tx.execute(sql`INSERT INTO ${sql.id(table)} (id) VALUES (${1})`);
            return (await tx.query<{ id: number }>(sql`SELECT id FROM ${sql.id(table)}`)).length;
          });
          assert.equal(result, 1);
          const mine = new Error('changed my mind');
          await assert.rejects(
            db.transaction(async (tx) => {
              await tx.execute(sql`INSERT INTO ${sql.id(table)} (id) VALUES (${2})`);
              throw mine;
            }),
            (error) => error === mine,
          );
          let escaped: Parameters<Parameters<SqlDatabase['transaction']>[0]>[0] | undefined;
          await db.transaction(
            async (tx) => {
              escaped = tx;
              await tx.execute(sql`INSERT INTO ${sql.id(table)} (id) VALUES (${3})`);
              await tx
                .transaction(async (inner) => {
                  await inner.execute(sql`INSERT INTO ${sql.id(table)} (id) VALUES (${4})`);
                  throw new Error('inner only');
                })
                .catch(() => undefined);
              await tx.transaction((inner) =>
                inner.execute(sql`INSERT INTO ${sql.id(table)} (id) VALUES (${5})`),
              );
            },
            { isolation: 'serializable' },
          );
          const ids = await db.query<{ id: number }>(sql`SELECT id FROM ${sql.id(table)} ORDER BY id`);
          assert.deepEqual(
            ids.map((row) => row.id),
            [1, 3, 5],
          );
          await rejectsWith(escaped!.query(sql`SELECT ${1} AS x`), 'closed');
        });
      }),
    );

    it(
      'rolls back a transaction that runs past its deadline and reports timeout',
      withDb(async (db) => {
        const t = dialectTypes[db.dialect];
        const table = newTable();
        await withTable(db, table, `id ${t.int} PRIMARY KEY`, async () => {
          await rejectsWith(
            db.transaction(
              async (tx) => {
                await tx.execute(sql`INSERT INTO ${sql.id(table)} (id) VALUES (${1})`);
                await sleep(1_500);
              },
              { timeoutMs: 300 },
            ),
            'timeout',
          );
          assert.deepEqual(await db.query(sql`SELECT id FROM ${sql.id(table)}`), []);
        });
      }),
    );

    it(
      'streams rows in batches and in order; stopping early gives the connection back',
      withDb(async (db) => {
        const t = dialectTypes[db.dialect];
        const table = newTable();
        await withTable(db, table, `id ${t.int} PRIMARY KEY`, async () => {
          for (let start = 0; start < 5_000; start += 500) {
            const ids = Array.from({ length: 500 }, (_, index) => sql`(${start + index})`);
            await db.execute(sql`INSERT INTO ${sql.id(table)} (id) VALUES ${sql.join(ids)}`);
          }
          let expected = 0;
          for await (const row of db.stream<{ id: number }>(
            sql`SELECT id FROM ${sql.id(table)} ORDER BY id`,
            {
              batchSize: 333,
            },
          )) {
            assert.equal(row.id, expected++);
          }
          assert.equal(expected, 5_000);
          for (let round = 0; round < 3; round++) {
            for await (const row of db.stream<{ id: number }>(
              sql`SELECT id FROM ${sql.id(table)} ORDER BY id`,
            )) {
              if (row.id === 10) break;
            }
          }
          const status = (await db.health()).details?.pool as { busy: number; waiting: number };
          assert.equal(status.waiting, 0);
          assert.equal((await db.query(sql`SELECT ${7} AS seven`)).length, 1);
        });
      }),
    );

    it(
      'applies migrations once each, records them, and refuses a changed one',
      withDb(async (db) => {
        const table = newTable();
        const [create, seed] = [`${table}_001_create`, `${table}_002_seed`];
        const first = [
          { id: create, sql: `CREATE TABLE ${table} (id ${dialectTypes[db.dialect].int} PRIMARY KEY)` },
          { id: seed, sql: { [db.dialect]: `INSERT INTO ${table} (id) VALUES (1)` } },
        ];
        try {
          assert.deepEqual(await db.migrate(first), { applied: [create, seed], alreadyApplied: [] });
          assert.deepEqual(await db.migrate(first), { applied: [], alreadyApplied: [create, seed] });
          const changed = [first[0]!, { id: seed, sql: `INSERT INTO ${table} (id) VALUES (2)` }];
          const error = await rejectsWith(db.migrate(changed), 'conflict');
          assert.match(error.message, /_002_seed was applied with other text/);
          assert.deepEqual(plain(await db.query(sql`SELECT id FROM ${sql.id(table)}`)), [{ id: 1 }]);
          const other = await rejectsWith(
            db.migrate([{ id: '003', sql: { other: 'x' } as never }]),
            'validation',
          );
          assert.match(other.message, /migrations\[0\]\.sql/);
        } finally {
          await db.execute({ text: `DROP TABLE ${table}` }).catch(() => undefined);
          await db
            .execute(sql`DELETE FROM ${sql.id('berth_migrations')} WHERE id IN (${sql.join([create, seed])})`)
            .catch(() => undefined);
        }
      }),
    );

    it(
      'settles a statement past its deadline as timeout and stays usable',
      withDb(async (db) => {
        if (!features.cancelsStatements) return;
        const started = performance.now();
        await rejectsWith(
          db.query({ text: dialectTypes[db.dialect].sleepFiveSeconds }, { timeoutMs: 300 }),
          'timeout',
        );
        assert.ok(performance.now() - started < 2_500, 'the caller waited for the statement');
        assert.equal((await db.query(sql`SELECT ${1} AS one`)).length, 1);
      }),
    );

    it(
      'runs more concurrent calls than connections, and refuses calls once closed',
      withDb(async (db) => {
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, index) => db.query<{ n: number }>(sql`SELECT ${index} AS n`)),
        );
        assert.deepEqual(
          results.map((rows) => Number(rows[0]?.n)),
          Array.from({ length: 40 }, (_, index) => index),
        );
        await db.close();
        await db.close();
        await rejectsWith(db.query(sql`SELECT ${1} AS one`), 'closed');
        assert.equal((await db.health()).status, 'down');
      }),
    );
  });
}

/** A decimal's text without trailing fractional zeros: `1.50000` and `1.5` are one value. */
function trimDecimal(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}
