// The SqlDatabase port on PostgreSQL vs a raw `pg.Pool` of the same size, interleaved in one
// process. Prints `ratio <name> <port/raw>` lines; ops/s of both sides go to stderr. Issue #14's
// targets: primary-key SELECT ≥ 0.9 at concurrency 1 and ≥ 0.85 at 64; 1,000-row INSERTs ≥ 0.9.
// `BENCH_ONLY=select|insert` runs one part.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Registry } from 'prom-client';
import { createPostgresDatabase } from '../src/adapters/postgres/index.ts';
import { sql, type SqlDatabase } from '../src/ports/index.ts';
import { createLogger, createRuntime } from '../src/runtime/index.ts';
import { ensureService } from '../test/servers/services.ts';
import { collectGarbage, median, timed } from './timing.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const only = process.env.BENCH_ONLY;
// Calls per side per round at concurrency 64, in slices that take turns; a quarter of it at 1.
const opsPerRound = Number(process.env.BENCH_OPS ?? 6_000);
const poolSize = Number(process.env.BENCH_POOL_SIZE ?? 10);
const accounts = 10_000;
const insertRows = 100_000;
const rowsPerStatement = 1_000;

async function postgresUrl(): Promise<string> {
  if (process.env.POSTGRES_URL) return process.env.POSTGRES_URL;
  const env = await ensureService('postgres');
  if (!env.POSTGRES_URL) throw new Error('services did not provide POSTGRES_URL');
  return env.POSTGRES_URL;
}

// Each timed slice starts on a collected heap, so no side pays for the garbage of the one before.
interface Pair {
  port: (i: number) => Promise<unknown>;
  raw: (i: number) => Promise<unknown>;
}

/** Concurrency 1: port and raw calls alternate one by one, so drift hits both alike. */
async function alternating(pair: Pair, total: number, round: number): Promise<{ port: number; raw: number }> {
  let portMs = 0;
  let rawMs = 0;
  collectGarbage();
  for (let i = 0; i < total; i++) {
    const portFirst = (round + i) % 2 === 0;
    const t0 = performance.now();
    await (portFirst ? pair.port(i) : pair.raw(i));
    const t1 = performance.now();
    await (portFirst ? pair.raw(i) : pair.port(i));
    const t2 = performance.now();
    portMs += portFirst ? t1 - t0 : t2 - t1;
    rawMs += portFirst ? t2 - t1 : t1 - t0;
  }
  return { port: total / (portMs / 1000), raw: total / (rawMs / 1000) };
}

/** Concurrency `workers`: slices of `total / slices` calls take turns, which side first alternating. */
async function sliced(
  pair: Pair,
  total: number,
  workers: number,
  round: number,
  slices = 6,
): Promise<{ port: number; raw: number }> {
  const slice = Math.ceil(total / slices);
  let portMs = 0;
  let rawMs = 0;
  for (let i = 0; i < slices; i++) {
    if ((round + i) % 2 === 0) {
      portMs += await timed(i * slice, slice, workers, pair.port);
      rawMs += await timed(i * slice, slice, workers, pair.raw);
    } else {
      rawMs += await timed(i * slice, slice, workers, pair.raw);
      portMs += await timed(i * slice, slice, workers, pair.port);
    }
  }
  return { port: (slices * slice) / (portMs / 1000), raw: (slices * slice) / (rawMs / 1000) };
}

async function report(
  label: string,
  unit: string,
  measure: (round: number) => Promise<{ port: number; raw: number }>,
  before?: () => Promise<void>,
): Promise<void> {
  for (let warmup = 0; warmup < 2; warmup++) {
    await before?.();
    await measure(warmup);
  }
  const rates: { port: number; raw: number }[] = [];
  for (let round = 0; round < rounds; round++) {
    await before?.();
    const rate = await measure(round);
    console.error(
      `${label} round ${round}: port ${Math.round(rate.port)}, raw ${Math.round(rate.raw)} ${unit}`,
    );
    rates.push(rate);
  }
  console.error(
    `${label}: port ${Math.round(median(rates.map((r) => r.port)))} ${unit}, raw pg.Pool ` +
      `${Math.round(median(rates.map((r) => r.raw)))} ${unit} (medians of ${rounds} rounds)`,
  );
  // The median of per-round ratios: each round's two sides ran under the same conditions.
  console.log(`ratio ${label} ${median(rates.map((r) => r.port / r.raw)).toFixed(3)}`);
}

async function benchSelect(db: SqlDatabase, raw: pg.Pool, table: string): Promise<void> {
  const id = sql.id(table);
  const text = `SELECT id, name, balance FROM ${table} WHERE id = $1`;
  const pair: Pair = {
    port: (i) => db.query(sql`SELECT id, name, balance FROM ${id} WHERE id = ${(i * 7919) % accounts}`),
    raw: async (i) => (await raw.query<Record<string, unknown>>(text, [(i * 7919) % accounts])).rows,
  };
  await report('sql.postgres.select-pk.c1', 'ops/s', (round) => alternating(pair, opsPerRound / 4, round));
  await report('sql.postgres.select-pk.c64', 'ops/s', (round) => sliced(pair, opsPerRound, 64, round));
}

async function benchInsert(
  db: SqlDatabase,
  raw: pg.Pool,
  portTable: string,
  rawTable: string,
): Promise<void> {
  const statements = insertRows / rowsPerStatement;
  const row = (n: number) => [n, `name-${n}`, n % 1_000] as const;
  const portId = sql.id(portTable);
  // Statement i: rows i * 1,000 … i * 1,000 + 999, as a caller would build them for each side.
  const pair: Pair = {
    port: (i) => {
      const rows = Array.from({ length: rowsPerStatement }, (_, k) => row(i * rowsPerStatement + k));
      return db.execute(sql`INSERT INTO ${portId} (id, name, balance) VALUES ${sql.values(rows)}`);
    },
    raw: (i) => {
      const params: unknown[] = [];
      const tuples: string[] = [];
      for (let k = 0; k < rowsPerStatement; k++) {
        params.push(...row(i * rowsPerStatement + k));
        const p = params.length;
        tuples.push(`($${p - 2}, $${p - 1}, $${p})`);
      }
      return raw.query(`INSERT INTO ${rawTable} (id, name, balance) VALUES ${tuples.join(', ')}`, params);
    },
  };
  // One statement at a time: 100 per side per round, in slices that take turns.
  const truncate = async () => void (await raw.query(`TRUNCATE ${portTable}, ${rawTable}`));
  await report(
    'sql.postgres.insert-100k.rows1000',
    'rows/s',
    async (round) => {
      const rates = await sliced(pair, statements, 1, round, 10);
      return { port: rates.port * rowsPerStatement, raw: rates.raw * rowsPerStatement };
    },
    truncate,
  );
}

const url = await postgresUrl();
const runtime = createRuntime({ logger: createLogger({ level: 'silent' }), registry: new Registry() });
// Deadlines long enough for a busy machine: a timed-out call would measure nothing.
const db = createPostgresDatabase({ url, poolSize, policies: { timeoutMs: 30_000 } }, runtime);
const raw = new pg.Pool({ connectionString: url, max: poolSize });
const run = randomBytes(4).toString('hex');
const selectTable = `bench_sql_${run}_select`;
const portTable = `bench_sql_${run}_insert_port`;
const rawTable = `bench_sql_${run}_insert_raw`;
try {
  const columns = '(id integer PRIMARY KEY, name text NOT NULL, balance integer NOT NULL)';
  for (const table of [selectTable, portTable, rawTable]) await raw.query(`CREATE TABLE ${table} ${columns}`);
  await raw.query(
    `INSERT INTO ${selectTable} SELECT g, 'name-' || g, g % 1000 FROM generate_series(0, ${accounts - 1}) AS g`,
  );
  // Both pools opened to their size before the first timed call.
  await Promise.all(Array.from({ length: poolSize * 2 }, () => db.query(sql`SELECT pg_sleep(0.05)`)));
  await Promise.all(Array.from({ length: poolSize * 2 }, () => raw.query('SELECT pg_sleep(0.05)')));
  if (only === undefined || only === 'select') await benchSelect(db, raw, selectTable);
  if (only === undefined || only === 'insert') await benchInsert(db, raw, portTable, rawTable);
} finally {
  await raw
    .query(`DROP TABLE IF EXISTS ${selectTable}, ${portTable}, ${rawTable}`)
    .catch((error: unknown) => {
      console.error('could not drop the bench tables:', error);
    });
  await raw.end();
  await db.close();
}
