// The workload of the outbox chaos tests (issue #27): 10,000 messages over 100 keys written by concurrent
// transactions, consumed through the inbox, and the checks once the relays have settled.
import assert from 'node:assert/strict';
import { type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  sql,
  type Broker,
  type Migration,
  type SqlDatabase,
  type Subscription,
} from '../../src/ports/index.ts';
import { type Inbox, type Outbox } from '../../src/runtime/index.ts';
import { waitFor } from './wait.ts';

export const total = 10_000;
export const keys = 100;
export const partitions = 16;
// Short, so a dead relay's partitions move to the next one within 2 s.
export const leaseMs = 2_000;
export const consumer = 'chaos-effects';

export interface Tables {
  outbox: string;
  inbox: string;
  effects: string;
  counters: string;
}

export const tablesOf = (prefix: string): Tables => ({
  outbox: `${prefix}_outbox`,
  inbox: `${prefix}_inbox`,
  effects: `${prefix}_effects`,
  counters: `${prefix}_counters`,
});

/** Each key's counter numbers its messages in commit order; each effect is a row, in the order applied. */
export const workloadMigrations = (tables: Tables): Migration[] => [
  {
    id: `${tables.effects}.001`,
    sql: [
      `CREATE TABLE ${tables.counters} (msg_key text PRIMARY KEY, n integer NOT NULL)`,
      `INSERT INTO ${tables.counters} (msg_key, n) SELECT 'key-' || k, 0 FROM generate_series(0, ${keys - 1}) AS k`,
      `CREATE TABLE ${tables.effects} (seq bigserial PRIMARY KEY, msg_key text NOT NULL, n integer NOT NULL, message_id text NOT NULL)`,
    ].join(';\n'),
  },
];

export interface Progress {
  written: number;
  /** Messages handed to the consumer's handler, repeats included. */
  deliveries: number;
  /** Handler attempts that failed (their transaction rolled back), to be tried again. */
  failedAttempts: number;
  /** Each key's numbers in the order their ids first arrived. */
  readonly firstArrivals: Map<string, number[]>;
  readonly seen: Set<string>;
}

export const newProgress = (): Progress => ({
  written: 0,
  deliveries: 0,
  failedAttempts: 0,
  firstArrivals: new Map(),
  seen: new Set(),
});

/**
 * 10,000 messages, each key 100 times, in transactions of 1 to 10 messages on distinct keys taken
 * from a shuffled list by 8 concurrent writers. Each transaction numbers its messages from the
 * keys' counters, locked in key order (so two transactions never wait on each other in a circle):
 * a key's numbers are the order in which its transactions committed, which the outbox must keep.
 */
export async function writeAll(
  outbox: Outbox,
  topic: string,
  tables: Tables,
  progress: Progress,
  writesPerSecond: number,
): Promise<void> {
  const slots = Array.from({ length: total }, (_, i) => `key-${i % keys}`);
  for (let i = slots.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [slots[i], slots[j]] = [slots[j]!, slots[i]!];
  }
  let next = 0;
  const started = performance.now();
  const counters = sql.id(tables.counters);
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < slots.length) {
        const size = 1 + Math.floor(Math.random() * 10);
        const waitMs = started + (next / writesPerSecond) * 1_000 - performance.now();
        const mine: string[] = [];
        while (mine.length < size && next < slots.length && !mine.includes(slots[next]!))
          mine.push(slots[next++]!);
        if (waitMs > 0) await sleep(waitMs);
        await outbox.transaction(async (tx) => {
          const numbered = await tx.query<{ msg_key: string; n: number }>(
            sql`UPDATE ${counters} AS c SET n = c.n + 1 FROM (SELECT msg_key FROM ${counters} WHERE msg_key IN (${sql.join(mine)}) ORDER BY msg_key FOR UPDATE) AS locked WHERE c.msg_key = locked.msg_key RETURNING c.msg_key, c.n`,
          );
          assert.equal(numbered.length, mine.length);
          await tx.publish(
            topic,
            numbered.map(({ msg_key: key, n }) => ({ key, value: { key, n } })),
          );
        });
        progress.written += mine.length;
      }
    }),
  );
}

/** The consumer: notes first arrivals, then the inbox's handler writes one effect row per message. */
export function consume(
  broker: Broker,
  inbox: Inbox,
  topic: string,
  group: string,
  tables: Tables,
  progress: Progress,
): Subscription {
  const applied = inbox.handler<{ key: string; n: number }>(consumer, async (message, tx) => {
    await tx.execute(
      sql`INSERT INTO ${sql.id(tables.effects)} (msg_key, n, message_id) VALUES (${message.value.key}, ${message.value.n}, ${message.id})`,
    );
  });
  return broker.subscribe<{ key: string; n: number }>(
    topic,
    async (message, signal) => {
      progress.deliveries++;
      if (!progress.seen.has(message.id)) {
        progress.seen.add(message.id);
        const list = progress.firstArrivals.get(message.value.key) ?? [];
        list.push(message.value.n);
        progress.firstArrivals.set(message.value.key, list);
      }
      await applied(message, signal).catch((error: unknown) => {
        progress.failedAttempts++;
        throw error;
      });
    },
    { group, fromBeginning: true, concurrency: 8, maxAttempts: 10 },
  );
}

export const countOf = async (database: SqlDatabase, table: string, what = 'COUNT(*)'): Promise<number> => {
  // `what` and `table` are this file's own words, never input.
  const [row] = await database.query<{ n: number | string }>({ text: `SELECT ${what} AS n FROM ${table}` });
  return Number(row?.n ?? 0);
};

/** Waits for every effect and an empty outbox, then checks order and exactly-once; prints the figures. */
export async function settleAndCheck(
  t: TestContext,
  database: SqlDatabase,
  tables: Tables,
  inbox: Inbox,
  progress: Progress,
  startedMs: number,
  faults: string,
): Promise<void> {
  let effects = 0;
  let pending = 0;
  await waitFor(
    'every message applied and the outbox empty',
    async () => {
      effects = await countOf(database, tables.effects);
      pending = await countOf(database, tables.outbox);
      return effects >= total && pending === 0;
    },
    120_000,
    {
      everyMs: 250,
      saw: () =>
        `written ${progress.written}, first arrivals ${progress.seen.size}, effects ${effects}, outbox rows ${pending}`,
    },
  );
  const tookMs = performance.now() - startedMs;
  // Late repeats (a relay's batch published twice) must change nothing either.
  await sleep(1_000);
  assert.equal(progress.seen.size, total, 'every message arrived');
  for (let k = 0; k < keys; k++) {
    const key = `key-${k}`;
    assert.deepEqual(
      progress.firstArrivals.get(key),
      Array.from({ length: total / keys }, (_, n) => n + 1),
      `${key}: first arrivals in commit order`,
    );
  }
  assert.equal(await countOf(database, tables.effects), total, 'effects: exactly one per message');
  assert.equal(await countOf(database, tables.effects, 'COUNT(DISTINCT message_id)'), total);
  const applied = await database.query<{ msg_key: string; n: number }>(
    sql`SELECT msg_key, n FROM ${sql.id(tables.effects)} ORDER BY seq`,
  );
  for (const [key, rows] of Map.groupBy(applied, (row) => row.msg_key))
    assert.deepEqual(
      rows.map((row) => row.n),
      Array.from({ length: total / keys }, (_, n) => n + 1),
      `${key}: effects applied in order`,
    );
  const duplicates = inbox.duplicates.get(consumer) ?? 0;
  t.diagnostic(
    `${total} messages over ${keys} keys, ${faults}: all arrived in order per key in ${(tookMs / 1_000).toFixed(1)} s; ` +
      `${progress.deliveries} deliveries, ${duplicates} duplicates absorbed by the inbox, ` +
      `${progress.failedAttempts} handler attempts failed and tried again, ${total} effects`,
  );
  assert.equal(
    progress.deliveries - progress.failedAttempts - duplicates,
    total,
    'each delivery beyond the first of an id was absorbed by the inbox',
  );
}
