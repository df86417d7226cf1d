// Issue #27 on PostgreSQL: a relay hears commits made by another process's outbox (LISTEN/NOTIFY)
// and publishes them within a second though it polls once a minute; its LISTEN connection,
// terminated by the server, is made again and keeps hearing them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMemoryBroker } from '../../src/adapters/memory/index.ts';
import { createPostgresDatabase } from '../../src/adapters/postgres/index.ts';
import { isInfraError, sql, type ReceivedMessage } from '../../src/ports/index.ts';
import { createOutbox, createOutboxRelay } from '../../src/runtime/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findPostgres } from '../support/servers.ts';
import { waitFor } from '../support/wait.ts';

const postgres = await findPostgres();

describe(
  'outbox on PostgreSQL: commits of another process heard through LISTEN/NOTIFY',
  { skip: 'skip' in postgres ? postgres.skip : false },
  () => {
    it('publishes them within a second while polling once a minute, also after its LISTEN connection was terminated', async () => {
      if ('skip' in postgres) return;
      const table = `outbox_notify_${randomBytes(4).toString('hex')}`;
      // Two databases and two outboxes: the writer's commits cannot wake the relay in-process.
      const writerDb = createPostgresDatabase({ url: postgres.url, poolSize: 2 }, silentRuntime());
      const relayDb = createPostgresDatabase({ url: postgres.url, poolSize: 2 }, silentRuntime());
      const writer = createOutbox({ sql: writerDb, table });
      const broker = createMemoryBroker({}, silentRuntime());
      const relay = createOutboxRelay({
        outbox: createOutbox({ sql: relayDb, table }),
        broker,
        runtime: silentRuntime(),
        pollIntervalMs: 60_000,
        leaseMs: 60_000,
      });
      try {
        await writerDb.migrate(writer.migrations);
        const seen: ReceivedMessage[] = [];
        const subscription = broker.subscribe(
          'notified',
          (message) => {
            seen.push(message);
            return Promise.resolve();
          },
          { group: 'g', fromBeginning: true },
        );
        await subscription.ready;
        await relay.start();
        await sleep(6_000); // idle: the relay's own sleeps are seconds long by now
        const deliver = async (n: number): Promise<void> => {
          await writer.transaction((tx) => tx.publish('notified', { key: 'k', value: n }));
          await waitFor(
            `message ${n} heard and published`,
            () => Promise.resolve(seen.length === n + 1),
            1_000,
          );
        };
        await deliver(0);
        await deliver(1);
        const terminated = await writerDb.query<{ pid: number }>(
          sql`SELECT pg_terminate_backend(pid) AS done, pid FROM pg_stat_activity WHERE query = ${`LISTEN "${table}"`}`,
        );
        assert.equal(terminated.length, 1, 'the relay listens on a connection of its own');
        // Connected again within its first backoff; the next commit is heard too.
        await sleep(1_000);
        await deliver(2);
        assert.deepEqual(
          seen.map((m) => m.value),
          [0, 1, 2],
        );
      } finally {
        await relay.close();
        await broker.close();
        await Promise.all([writerDb.close(), relayDb.close()]);
      }
    });

    it('refuses a channel that is not a plain name, before any connection', async () => {
      if ('skip' in postgres) return;
      const database = createPostgresDatabase({ url: postgres.url, poolSize: 1 }, silentRuntime());
      try {
        await assert.rejects(
          database.listen!('bad"; DROP TABLE x; --', () => undefined),
          (error: unknown) =>
            isInfraError(error) && error.reason === 'validation' && /channel/.test(error.message),
        );
      } finally {
        await database.close();
      }
    });
  },
);
