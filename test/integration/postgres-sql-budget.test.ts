// Issue #15's one deadline per call, on the SqlDatabase port: a call that waited for a connection
// gets only what is left of its budget, so waiting and running together settle within it.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createPostgresDatabase } from '../../src/adapters/postgres/index.ts';
import { isInfraError, sql } from '../../src/ports/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findPostgres } from '../support/servers.ts';

const postgres = await findPostgres();

describe(
  'postgres sql database: the wait for a connection counts against the budget',
  {
    skip: 'skip' in postgres ? postgres.skip : false,
  },
  () => {
    const url = 'skip' in postgres ? '' : postgres.url;
    const db = createPostgresDatabase(
      { url, poolSize: 1, acquireTimeoutMs: 900, policies: { timeoutMs: 1_000, retry: { maxAttempts: 1 } } },
      silentRuntime(),
    );
    after(() => db.close());

    it('a query that waited ~600 ms for the one connection times out within its 1 s budget, not 600 ms of statement later', async () => {
      await db.query(sql`SELECT 1`); // connected before the clock starts
      const holder = db.query(sql`SELECT pg_sleep(0.6)`);
      const started = performance.now();
      const waiter = db.query(sql`SELECT pg_sleep(0.6)`).then(
        () => 'succeeded',
        (error: unknown) => (isInfraError(error) ? error.reason : String(error)),
      );
      const outcome = await waiter;
      const settledMs = performance.now() - started;
      await holder;
      console.log(`waited for the connection, then ran: ${outcome} after ${settledMs.toFixed(0)} ms`);
      assert.equal(outcome, 'timeout');
      assert.ok(
        settledMs < 1_000 + 150,
        `settled ${settledMs.toFixed(0)} ms after the call (budget 1,000 ms)`,
      );
    });

    it('a query that waited gets the rest of its budget and succeeds when that is enough', async () => {
      const holder = db.query(sql`SELECT pg_sleep(0.2)`);
      const rows = await db.query<{ ok: number }>(sql`SELECT 1 AS ok`);
      await holder;
      assert.deepEqual(
        rows.map((row) => row.ok),
        [1],
      );
    });
  },
);
