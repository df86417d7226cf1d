// The SqlDatabase port on a real PostgreSQL (issue #14, "What it must show"): serializable
// transfers that conserve money through retried conflicts, a bounded connection queue under a
// flood, a statement stopped on the server past its deadline, two processes migrating at once,
// and a server of the test's own stopped and started again under load.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { canProvide } from '../servers/services.ts';
import { Registry } from 'prom-client';
import {
  createPostgresDatabase,
  type PostgresDatabase,
  type PostgresDatabaseOptions,
} from '../../src/adapters/postgres/index.ts';
import { isInfraError, sql } from '../../src/ports/index.ts';
import { createLogger, createRuntime, type Runtime } from '../../src/runtime/index.ts';
import { rejectsWith } from '../../src/testing/infra-assertions.ts';
import { ownService, type OwnService } from '../support/own-service.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findPostgres } from '../support/servers.ts';
import { waitFor } from '../support/wait.ts';

// Most checks read counters in memory: polled faster than a server is asked.
const poll = { everyMs: 25 };

const postgres = await findPostgres();
const url = 'skip' in postgres ? '' : postgres.url;
const run = randomBytes(4).toString('hex');
const created: string[] = [];
/** A table (or sequence) name of this run's own, dropped at the end. */
const table = (what: string, kind = 'TABLE'): string => {
  const name = `berth_it_${run}_${what}`;
  created.push(`${kind} IF EXISTS ${name}`);
  return name;
};
const databases: PostgresDatabase[] = [];
const open = (options: Partial<PostgresDatabaseOptions>, runtime: Runtime = silentRuntime()) => {
  const db = createPostgresDatabase({ url, ...options }, runtime);
  databases.push(db);
  return db;
};
const reasonOf = (error: unknown): string => (isInfraError(error) ? error.reason : String(error));
const countBy = (items: string[]) =>
  Object.fromEntries([...Map.groupBy(items, (item) => item)].map(([k, v]) => [k, v.length]));

/** `promise`, or a failed assertion once `ms` went by: a hang shows as a failure, not a stuck run. */
async function within<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new assert.AssertionError({ message: `${what} within ${ms} ms` })), ms);
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}

describe('postgres sql database (pg)', { skip: 'skip' in postgres ? postgres.skip : false }, () => {
  after(async () => {
    const db = open({ poolSize: 1 });
    for (const what of created) await db.execute({ text: `DROP ${what}` });
    for (const each of databases) await each.close();
  });

  it('50 concurrent serializable transfers between 10 accounts conserve the total; they needed their retries', async (t) => {
    const registry = new Registry();
    const runtime = createRuntime({ logger: createLogger({ level: 'silent' }), registry });
    const db = open({ poolSize: 10, acquireTimeoutMs: 30_000 }, runtime);
    const accounts = sql.id(table('accounts'));
    await db.execute(sql`CREATE TABLE ${accounts} (id integer PRIMARY KEY, balance integer NOT NULL)`);
    await db.execute(sql`INSERT INTO ${accounts} SELECT g, 1000 FROM generate_series(1, 10) AS g`);
    const total = async () =>
      Number((await db.query<{ sum: string }>(sql`SELECT sum(balance) AS sum FROM ${accounts}`))[0]?.sum);
    const retries = async (): Promise<number> => {
      const metric = await registry.getSingleMetric('berth_operation_retries_total')?.get();
      const values = metric?.values.filter((value) => value.labels['operation'] === 'transaction') ?? [];
      return values.reduce((sum, value) => sum + value.value, 0);
    };
    let attempts = 0;
    // Each reads two balances and writes both from what it read: a lost update would change the total.
    const transfer = (i: number, maxAttempts: number) =>
      db.transaction(
        async (tx) => {
          attempts++;
          const from = (i % 10) + 1;
          const to = ((from + (i % 9)) % 10) + 1;
          const balance = async (id: number) =>
            (await tx.query<{ balance: number }>(sql`SELECT balance FROM ${accounts} WHERE id = ${id}`))[0]!
              .balance;
          const [a, b] = [await balance(from), await balance(to)];
          await tx.execute(sql`UPDATE ${accounts} SET balance = ${a - 7} WHERE id = ${from}`);
          await tx.execute(sql`UPDATE ${accounts} SET balance = ${b + 7} WHERE id = ${to}`);
        },
        { isolation: 'serializable', maxAttempts, timeoutMs: 120_000 },
      );

    const outcomes = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => transfer(i, 100)));
    const retried = await retries();
    t.diagnostic(
      `retried: ${retried} transaction retries, ${attempts} runs of the function for 50 transfers`,
    );
    assert.deepEqual(
      outcomes.filter((outcome) => outcome.status === 'rejected').map((outcome) => reasonOf(outcome.reason)),
      [],
      'every transfer committed',
    );
    assert.equal(await total(), 10_000, 'the total is conserved');
    assert.equal(attempts - 50, retried, 'each retry is one more run of the function, counted');

    attempts = 0;
    const once = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => transfer(i, 1)));
    const failed = once.flatMap((outcome) =>
      outcome.status === 'rejected' ? [outcome.reason as unknown] : [],
    );
    t.diagnostic(`maxAttempts 1: ${failed.length} of 50 transfers failed, ${attempts} runs`);
    assert.ok(failed.length > 0, 'without retries some transfers lose the race');
    for (const error of failed) {
      assert.ok(isInfraError(error) && error.reason === 'conflict' && error.retryable, String(error));
    }
    assert.equal(attempts, 50, 'maxAttempts 1 runs each function once');
    assert.equal(await retries(), retried, 'and counts no retry');
    assert.equal(await total(), 10_000, 'the failed transfers rolled back');
  });

  it('a flood of 200 queries on a pool of 5: 50 wait, the rest are refused at once, none hangs, then it recovers', async (t) => {
    const db = open({
      poolSize: 5,
      acquireTimeoutMs: 1_000,
      maxWaiting: 50,
      policies: { timeoutMs: 10_000, healthTimeoutMs: 5_000 },
    });
    const started = performance.now();
    const outcomes: { outcome: string; ms: number }[] = [];
    const settle = (outcome: string) => outcomes.push({ outcome, ms: performance.now() - started });
    const calls = Array.from({ length: 200 }, () =>
      db.query({ text: 'SELECT pg_sleep(0.2)' }).then(
        () => settle('ok'),
        (error: unknown) => settle(reasonOf(error)),
      ),
    );
    const health = await db.health();
    await within('every call of the flood settled', Promise.all(calls), 30_000);
    const counts = countBy(outcomes.map(({ outcome }) => outcome));
    const times = (outcome: string) => outcomes.filter((o) => o.outcome === outcome).map((o) => o.ms);
    const firstOk = Math.min(...times('ok'));
    const timedOut = times('timeout');
    t.diagnostic(
      `flood: ${JSON.stringify(counts)}; first success at ${Math.round(firstOk)} ms, timeouts at ` +
        `${Math.round(Math.min(...timedOut))}–${Math.round(Math.max(...timedOut))} ms; health ${JSON.stringify(health.details?.pool)}`,
    );
    assert.deepEqual(Object.keys(counts).sort(), ['ok', 'rate_limited', 'timeout']);
    // 5 on connections and 50 waiting when the calls arrive: the other 145 are refused.
    assert.equal(counts['rate_limited'], 145);
    assert.ok(counts['ok']! >= 5, 'the calls on a connection and some that waited succeed');
    assert.ok(
      Math.max(...times('rate_limited')) < firstOk,
      'refusals came at once, before any statement ended',
    );
    assert.ok(Math.min(...timedOut) >= 999, 'a timeout came after waiting 1 s for a connection');
    assert.ok(Math.max(...timedOut) <= 1_000 + 2_000, 'and not much later');
    const pool = health.details?.pool as { limit: number; waiting: number; size: number };
    assert.equal(health.status, 'up', 'the probe has a connection of its own');
    assert.equal(pool.limit, 5);
    assert.ok(pool.waiting <= 50 && pool.size <= 6, JSON.stringify(pool));

    const recovering = performance.now();
    const after = await Promise.all(
      Array.from({ length: 20 }, (_, i) => db.query(sql`SELECT ${i}::int AS n`)),
    );
    t.diagnostic(`recovered: 20 queries in ${Math.round(performance.now() - recovering)} ms`);
    assert.deepEqual(
      after.map((rows) => rows[0]?.n),
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.equal(((await db.health()).details?.pool as { waiting: number }).waiting, 0);
  });

  it('a statement past its deadline is stopped on the server', async (t) => {
    const db = open({ poolSize: 2 });
    const counter = table('cancel_seq', 'SEQUENCE');
    await db.execute({ text: `CREATE SEQUENCE ${counter}` });
    const marker = `berth_cancel_${run}`;
    const started = performance.now();
    await rejectsWith(
      db.query({ text: `SELECT nextval('${counter}'), pg_sleep(30) /* ${marker} */` }, { timeoutMs: 300 }),
      'timeout',
    );
    const settledMs = performance.now() - started;
    assert.ok(settledMs <= 300 + 1_000, `settled within its deadline + 1 s: ${settledMs}`);
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    try {
      // nextval is not rolled back: the statement did start on the server.
      const [sequence] = (await raw.query<{ is_called: boolean }>(`SELECT is_called FROM ${counter}`)).rows;
      assert.equal(sequence?.is_called, true, 'the statement reached the server');
      const running = async () =>
        (
          await raw.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()`,
            [`%${marker}%`],
          )
        ).rows[0]?.n ?? 0;
      const goneMs = await waitFor(
        'the statement is no longer active on the server',
        async () => (await running()) === 0,
        5_000,
        poll,
      );
      t.diagnostic(
        `timeout after ${Math.round(settledMs)} ms; gone from pg_stat_activity ${Math.round(goneMs)} ms later`,
      );
    } finally {
      await raw.end();
    }
    assert.equal((await db.query(sql`SELECT ${1}::int AS one`))[0]?.one, 1, 'the database stays usable');
  });

  it('two processes migrating at once apply each migration exactly once; a changed one is refused', async (t) => {
    const target = table('migrated');
    const migrationsTable = table('migrations');
    const child = (changed = false) => {
      const env = { MIGRATE_URL: url, MIGRATE_TARGET: target, MIGRATE_TABLE: migrationsTable };
      const script = join(import.meta.dirname, '..', 'support', 'sql-migrate-child.ts');
      const proc = spawn(process.execPath, [script], {
        env: { ...process.env, ...env, MIGRATE_CHANGED: String(changed) },
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      let out = '';
      proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      const ready = waitFor('a child connected', () => out.startsWith('ready\n'), 60_000, poll);
      const result = new Promise<Record<string, unknown>>((resolve, reject) => {
        proc.on('error', reject);
        proc.on('exit', (code) => {
          const line = out.trim().split('\n').at(-1) ?? '';
          if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as Record<string, unknown>);
          else reject(new Error(`child exited with ${code}: ${out}`));
        });
      });
      return { ready, go: () => proc.stdin.end('go\n'), result };
    };
    const children = [child(), child()];
    // Both connected before either starts: they migrate at the same moment.
    await within('both children connected', Promise.all(children.map((c) => c.ready)), 60_000);
    children.forEach((c) => c.go());
    const results = await within('both migrated', Promise.all(children.map((c) => c.result)), 120_000);
    type Report = { applied: string[]; alreadyApplied: string[] };
    const [a, b] = results as { ids: string[]; report: Report; started: number; ended: number }[];
    t.diagnostic(
      `first ${JSON.stringify(a!.report)}, second ${JSON.stringify(b!.report)}; ` +
        `started ${Math.abs(a!.started - b!.started)} ms apart, ${a!.ended - a!.started} and ${b!.ended - b!.started} ms long`,
    );
    assert.ok(
      Math.max(a!.started, b!.started) < Math.min(a!.ended, b!.ended),
      'the two ran at the same time',
    );
    const ids = a!.ids;
    assert.equal(ids.length, 5);
    assert.deepEqual(
      [...a!.report.applied, ...b!.report.applied].sort(),
      ids,
      'each applied once across both',
    );
    for (const { report } of [a!, b!])
      assert.deepEqual([...report.applied, ...report.alreadyApplied].sort(), ids);
    const db = open({ poolSize: 1 });
    const rows = await db.query<{ migration: string }>(
      sql`SELECT migration FROM ${sql.id(target)} ORDER BY 1`,
    );
    assert.deepEqual(
      rows.map((row) => row.migration),
      ids.slice(1),
      'the rows of the migrations, once each',
    );
    const recorded = await db.query(sql`SELECT id FROM ${sql.id(migrationsTable)} ORDER BY id`);
    assert.deepEqual(
      recorded.map((row) => row['id']),
      ids,
      'each recorded once',
    );

    const third = child(true);
    await within('a third child connected', third.ready, 60_000);
    third.go();
    const refused = (await within('the third run ended', third.result, 60_000)) as {
      error?: { reason: string; message: string };
    };
    assert.equal(refused.error?.reason, 'conflict', JSON.stringify(refused));
    assert.match(refused.error.message, /003_second was applied with other text/);
    assert.equal(
      (await db.query(sql`SELECT 1 FROM ${sql.id(target)} WHERE migration = ${'changed'}`)).length,
      0,
    );
  });
});

const ownSkip =
  canProvide('postgres') || process.env.CI === 'true'
    ? false
    : 'this machine cannot run PostgreSQL locally: the test stops and restarts a server of its own';

describe('postgres sql database: its own server stopped and started under load', { skip: ownSkip }, () => {
  let service: OwnService | undefined;
  after(async () => {
    if (service === undefined) return;
    await service.services('down', 'postgres');
    rmSync(service.stateDir, { recursive: true, force: true });
  });

  it('fails fast while the server is down (unavailable, timeout, circuit_open), health down; the same database recovers', async (t) => {
    service = await ownService('postgres');
    const ownUrl = /POSTGRES_URL=(\S+)/.exec(await service.services('up', 'postgres'))?.[1];
    assert.ok(ownUrl, 'the services script printed POSTGRES_URL');
    const [timeoutMs, acquireTimeoutMs, marginMs] = [1_000, 1_000, 1_000];
    // A call's deadline starts once it has a connection: a call may wait for one first.
    const bound = acquireTimeoutMs + timeoutMs + marginMs;
    const db = createPostgresDatabase(
      {
        url: ownUrl,
        poolSize: 5,
        acquireTimeoutMs,
        connectTimeoutMs: 2_000,
        policies: {
          timeoutMs,
          healthTimeoutMs: 1_000,
          breaker: { consecutiveFailures: 3, halfOpenAfterMs: 1_000 },
        },
      },
      silentRuntime(),
    );
    type Call = { started: number; ended?: number; outcome?: string };
    const calls: Call[] = [];
    let stopLoad = false;
    const load = (async () => {
      for (let n = 0; !stopLoad; n++) {
        const call: Call = { started: performance.now() };
        calls.push(call);
        db.query(sql`SELECT ${n}::int AS n`).then(
          () => Object.assign(call, { outcome: 'ok', ended: performance.now() }),
          (error: unknown) => Object.assign(call, { outcome: reasonOf(error), ended: performance.now() }),
        );
        await sleep(20);
      }
    })();
    const settled = (from: number, outcome?: string) =>
      calls.filter(
        (c) => c.started >= from && c.ended !== undefined && (outcome === undefined || c.outcome === outcome),
      );
    try {
      const before = performance.now();
      await waitFor(
        '20 calls succeeded before the stop',
        () => settled(before, 'ok').length >= 20,
        30_000,
        poll,
      );

      const downAt = performance.now();
      const stopping = service.services('down', 'postgres');
      const downMs = await waitFor(
        'health down',
        async () => (await db.health()).status === 'down',
        30_000,
        poll,
      );
      await stopping;
      const stoppedAt = performance.now();
      await waitFor(
        '30 calls failed on the stopped server',
        () => settled(stoppedAt).length >= 30,
        30_000,
        poll,
      );
      // Calls in flight at the stop count too: every call that ended after it.
      const failing = calls.filter((c) => c.ended !== undefined && c.ended >= downAt && c.outcome !== 'ok');
      const reasons = countBy(failing.map((c) => c.outcome!));
      const slowest = Math.max(...failing.map((c) => c.ended! - c.started));
      t.diagnostic(
        `down: health down ${Math.round(downMs)} ms after \`down\` began, ${failing.length} calls failed ` +
          `${JSON.stringify(reasons)}, slowest ${Math.round(slowest)} ms`,
      );
      assert.deepEqual(
        Object.keys(reasons).filter((r) => !['unavailable', 'timeout', 'circuit_open'].includes(r)),
        [],
      );
      assert.ok(slowest <= bound, `every failure settled within ${bound} ms: ${slowest}`);
      assert.equal(settled(stoppedAt, 'ok').length, 0, 'nothing succeeded while it was down');

      await service.services('up', 'postgres');
      const upAt = performance.now();
      const recoveryMs = await waitFor(
        'a call succeeded after `up`',
        () => settled(upAt, 'ok').length > 0,
        30_000,
        poll,
      );
      const cleanFrom = performance.now();
      await waitFor('20 calls succeeded in a row', () => settled(cleanFrom).length >= 20, 30_000, poll);
      const failedAfter = settled(cleanFrom).filter((c) => c.outcome !== 'ok');
      const health = await db.health();
      t.diagnostic(
        `up: first success ${Math.round(recoveryMs)} ms after the server answered; ${calls.length} calls`,
      );
      assert.deepEqual(
        failedAfter.map((c) => c.outcome),
        [],
        'calls succeed again on the same database',
      );
      assert.equal(health.status, 'up', health.error);
    } finally {
      stopLoad = true;
      await load;
      await waitFor('every call settled', () => calls.every((c) => c.ended !== undefined), bound, poll);
      await db.close();
    }
  });
});
