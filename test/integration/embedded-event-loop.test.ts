// The embedded database answers within microtasks, where a server's answer comes back as I/O:
// callers that keep it busy must still leave the event loop its turns, or every timer (a
// statement's deadline, a relay's poll, a broker's gathered publish) and all I/O wait until they
// stop. Found by the outbox chaos tests, where a relay's publish waited 18 s.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEmbeddedDatabase } from '../../src/adapters/postgres/embedded.ts';
import { sql } from '../../src/ports/index.ts';
import { silentRuntime } from '../support/runtime.ts';

describe('embedded database and the event loop', () => {
  const database = createEmbeddedDatabase({ acquireTimeoutMs: 60_000 }, silentRuntime({ timeoutMs: 60_000 }));
  before(async () => {
    await database.start();
    await database.execute({ text: 'CREATE TABLE busy (seq bigserial PRIMARY KEY, note text NOT NULL)' });
  });
  after(() => database.close());

  /** `workers` callers, each in a loop of statements (or transactions) until `stop()` or `limit` in all. */
  function keepBusy(workers: number, limit: number, transactions: boolean) {
    let stopped = false;
    let done = 0;
    const running = Promise.all(
      Array.from({ length: workers }, async () => {
        while (!stopped && done < limit) {
          if (transactions)
            await database.transaction(async (tx) => {
              await tx.execute(sql`INSERT INTO busy (note) VALUES (${'tx'})`);
              await tx.query(sql`SELECT COUNT(*) AS n FROM busy`);
            });
          else await database.execute(sql`INSERT INTO busy (note) VALUES (${'statement'})`);
          done++;
        }
      }),
    );
    return {
      stop: async () => {
        stopped = true;
        await running;
        return done;
      },
    };
  }

  for (const [what, workers, transactions] of [
    ['one caller in a loop of statements', 1, false],
    ['16 callers in loops of transactions', 16, true],
  ] as const)
    it(`${what}: a 10 ms timer fires within 500 ms`, async () => {
      // Bounded, so that without the turns the test ends (late) rather than hangs.
      const busy = keepBusy(workers, 2_000, transactions);
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 10));
      const firedMs = performance.now() - started;
      const done = await busy.stop();
      assert.ok(firedMs < 500, `the timer fired after ${Math.round(firedMs)} ms (${done} calls meanwhile)`);
    });
});
