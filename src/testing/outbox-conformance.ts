import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import type { Broker, ReceivedMessage } from '../ports/broker.ts';
import { InfraError, isInfraError } from '../ports/errors.ts';
import type { SqlDatabase } from '../ports/sql-database.ts';
import { sql } from '../ports/sql.ts';
import { createInbox } from '../runtime/outbox/inbox.ts';
import {
  createOutboxRelay,
  type OutboxRelay,
  type OutboxRelayOptions,
} from '../runtime/outbox/outbox-relay.ts';
import { createOutbox, type Outbox } from '../runtime/outbox/outbox.ts';
import { createLogger, createRuntime, type Runtime } from '../runtime/runtime.ts';
import { nodeTestApi, type TestApi } from './test-api.ts';

export interface OutboxConformanceOptions {
  name: string;
  /** A started database the suite may create tables in (names unique to the run); the suite closes it. */
  sql: (runtime: Runtime) => SqlDatabase | Promise<SqlDatabase>;
  /** A broker on which topics are created on first use; `maxMessageBytes` when the suite asks for a small limit. */
  broker: (runtime: Runtime, options: { maxMessageBytes?: number }) => Broker;
  test?: TestApi;
}

interface Scope {
  database: SqlDatabase;
  outbox: Outbox;
  broker: (options?: { maxMessageBytes?: number }) => Broker;
  relay: (broker: Broker, options?: Partial<OutboxRelayOptions>) => OutboxRelay;
  /** A topic name of this test's own. */
  topic: (name: string) => string;
  /** A table name of this test's own. */
  table: (name: string) => string;
  /** What the dialect calls a short text column. */
  text: string;
}

const quiet = (registry = new Registry()): Runtime =>
  createRuntime({ logger: createLogger({ level: 'silent' }), registry });

async function until(what: string, done: () => boolean | Promise<boolean>, withinMs = 20_000): Promise<void> {
  const started = performance.now();
  while (!(await done())) {
    assert.ok(performance.now() - started < withinMs, `${what} within ${withinMs} ms`);
    await sleep(20);
  }
}

/** Every message of `topic` that reaches a subscription, in arrival order; resolves once it consumes. */
async function collect(broker: Broker, topic: string): Promise<ReceivedMessage[]> {
  const seen: ReceivedMessage[] = [];
  const subscription = broker.subscribe(
    topic,
    (message) => {
      seen.push(message);
      return Promise.resolve();
    },
    { group: `${topic}-collector`, fromBeginning: true },
  );
  await subscription.ready;
  return seen;
}

/**
 * What the outbox, its relay and the inbox must do on every database and broker: publish what
 * commits and nothing that rolls back, in order per key, once per row with several relays, keep
 * rows through a broker outage, set aside what the broker refuses, and apply each message once.
 */
export function outboxConformance(options: OutboxConformanceOptions): void {
  const { describe, it } = options.test ?? nodeTestApi;
  const run = randomBytes(4).toString('hex');
  let counter = 0;
  const scoped = (fn: (scope: Scope) => Promise<void>) => async (): Promise<void> => {
    const id = `${run}_${++counter}`;
    const database = await options.sql(quiet());
    const closing: (() => Promise<void>)[] = [];
    try {
      const outbox = createOutbox({ sql: database, table: `outbox_${id}`, partitions: 4, runtime: quiet() });
      await database.migrate(outbox.migrations);
      const scope: Scope = {
        database,
        outbox,
        broker: (brokerOptions = {}) => {
          const broker = options.broker(quiet(), brokerOptions);
          closing.push(() => broker.close());
          return broker;
        },
        relay: (broker, relayOptions = {}) => {
          const relay = createOutboxRelay({
            outbox,
            broker,
            runtime: quiet(),
            pollIntervalMs: 50,
            ...relayOptions,
          });
          closing.unshift(() => relay.close());
          return relay;
        },
        topic: (name) => `outbox-${id}-${name}`,
        table: (name) => `${name}_${id}`,
        text: database.dialect === 'postgres' ? 'text' : 'nvarchar(200)',
      };
      await fn(scope);
    } finally {
      for (const close of closing) await close();
      await database.close();
    }
  };
  const count = async (database: SqlDatabase, table: string, where = sql``): Promise<number> => {
    const [row] = await database.query<{ n: unknown }>(
      sql`SELECT COUNT(*) AS n FROM ${sql.id(table)} ${where}`,
    );
    return Number(row?.n);
  };

  describe(`outbox conformance: ${options.name}`, () => {
    it(
      'publishes what a committed transaction wrote, with its id, key and headers, and nothing of one rolled back',
      scoped(async ({ database, outbox, broker: newBroker, relay, topic, table, text }) => {
        const orders = table('orders');
        await database.migrate([
          { id: orders, sql: `CREATE TABLE ${orders} (id ${text} PRIMARY KEY, total int NOT NULL)` },
        ]);
        const broker = newBroker();
        const placed = topic('placed');
        const seen = await collect(broker, placed);
        await relay(broker).start();
        await outbox.transaction(async (tx) => {
          await tx.execute(sql`INSERT INTO ${sql.id(orders)} (id, total) VALUES (${'o-1'}, ${10})`);
          await tx.publish(placed, {
            key: 'o-1',
            id: 'event-1',
            value: { total: 10 },
            headers: { tenant: 't' },
          });
        });
        await assert.rejects(
          outbox.transaction(async (tx) => {
            await tx.execute(sql`INSERT INTO ${sql.id(orders)} (id, total) VALUES (${'o-2'}, ${20})`);
            await tx.publish(placed, { key: 'o-2', value: { total: 20 } });
            throw new Error('changed my mind');
          }),
          /changed my mind/,
        );
        await until('the committed event arrived', () => seen.length === 1);
        await sleep(300);
        assert.deepEqual(
          seen.map((m) => ({ id: m.id, key: m.key, value: m.value, tenant: m.headers['tenant'] })),
          [{ id: 'event-1', key: 'o-1', value: { total: 10 }, tenant: 't' }],
        );
        await until(
          'the published row deleted',
          async () => (await count(database, outbox.tables.messages)) === 0,
        );
        assert.deepEqual(await database.query(sql`SELECT id FROM ${sql.id(orders)}`), [{ id: 'o-1' }]);
      }),
    );

    it(
      'delivers a commit of this process within a second, though the relay idles in sleeps of seconds',
      scoped(async ({ outbox, broker: newBroker, relay, topic }) => {
        const broker = newBroker();
        const prompt = topic('prompt');
        const seen = await collect(broker, prompt);
        await relay(broker, { pollIntervalMs: 60_000, leaseMs: 60_000 }).start();
        // Idle, the relay looks again after 5 ms, then twice as long each time: 5 s by now (and its
        // lease rounds are 20 s apart).
        await sleep(6_000);
        for (let n = 0; n < 3; n++) {
          await outbox.transaction((tx) => tx.publish(prompt, { key: 'k', value: n }));
          await until(`message ${n} delivered`, () => seen.length === n + 1, 1_000);
          await sleep(300);
        }
      }),
    );

    it(
      'keeps the rows while the broker fails, reports degraded and the pending count, and drains them in order per key',
      scoped(async ({ outbox, broker: newBroker, relay, topic }) => {
        const broker = newBroker();
        let down = true;
        const flaky: Broker = {
          ...broker,
          publish: (to, messages, publishOptions) =>
            down
              ? Promise.reject(new InfraError('unavailable', 'broker down for the test', { port: 'broker' }))
              : broker.publish(to, messages, publishOptions),
        };
        const flakyTopic = topic('flaky');
        const seen = await collect(broker, flakyTopic);
        const registry = new Registry();
        const watched = relay(flaky, { runtime: quiet(registry), maxAgeMs: 100 });
        await watched.start();
        for (let n = 0; n < 6; n++)
          await outbox.transaction((tx) => tx.publish(flakyTopic, { key: `k${n % 2}`, value: n }));
        await sleep(300);
        const health = await watched.health();
        assert.equal(health.status, 'degraded', JSON.stringify(health));
        assert.equal(health.details?.['pending'], 6);
        assert.match(
          String(health.details?.['lastFailure']),
          /broker down for the test/,
          JSON.stringify(health),
        );
        const pending = await registry.getSingleMetricAsString('berth_outbox_pending_messages');
        assert.match(pending, new RegExp(`component="outbox-relay:${outbox.tables.messages}"\\} 6`));
        assert.equal(seen.length, 0);
        down = false;
        await until('the rows drained', () => seen.length === 6);
        for (const key of ['k0', 'k1'])
          assert.deepEqual(
            seen.filter((m) => m.key === key).map((m) => m.value),
            [0, 1, 2, 3, 4, 5].filter((n) => `k${n % 2}` === key),
            `${key} in order`,
          );
        await until('health up again', async () => (await watched.health()).status === 'up');
      }),
    );

    it(
      'publishes each row once with two relays at once, in order per key, and shares the partitions',
      scoped(async ({ outbox, broker: newBroker, relay, topic }) => {
        const broker = newBroker();
        const two = topic('two');
        const seen = await collect(broker, two);
        const relays = [relay(broker), relay(broker)];
        await Promise.all(relays.map((r) => r.start()));
        const keys = 10;
        const perKey = 30;
        await Promise.all(
          Array.from({ length: keys }, async (_, k) => {
            for (let n = 0; n < perKey; n++)
              await outbox.transaction((tx) => tx.publish(two, { key: `key-${k}`, value: { n } }));
          }),
        );
        await until('every message arrived', () => seen.length >= keys * perKey, 60_000);
        await sleep(500);
        const ids = seen.map((m) => m.id);
        assert.equal(ids.length - new Set(ids).size, 0, 'messages published twice');
        assert.equal(ids.length, keys * perKey);
        for (let k = 0; k < keys; k++)
          assert.deepEqual(
            seen.filter((m) => m.key === `key-${k}`).map((m) => (m.value as { n: number }).n),
            Array.from({ length: perKey }, (_, n) => n),
            `key-${k} in order`,
          );
        // The second to start takes its share at its next lease round at the latest.
        await until('the four partitions shared', async () =>
          (await Promise.all(relays.map((r) => r.health()))).every((h) => h.details?.['partitions'] === 2),
        );
      }),
    );

    it(
      'moves a closed relay’s partitions to the one left, which carries on',
      scoped(async ({ outbox, broker: newBroker, relay, topic }) => {
        const broker = newBroker();
        const handoff = topic('handoff');
        const seen = await collect(broker, handoff);
        const [first, second] = [relay(broker), relay(broker)];
        await Promise.all([first.start(), second.start()]);
        const batch = (from: number) =>
          Array.from({ length: 20 }, (_, n) => ({ key: `k${n}`, value: from + n }));
        await outbox.transaction((tx) => tx.publish(handoff, batch(0)));
        await until('the first batch arrived', () => seen.length === 20);
        await first.close();
        await outbox.transaction((tx) => tx.publish(handoff, batch(20)));
        await until('the second batch arrived through the relay left', () => seen.length === 40);
        assert.equal((await second.health()).details?.['partitions'], 4);
      }),
    );

    it(
      'sets aside a message the broker refuses for good, publishes the rest, and reports it',
      scoped(async ({ database, outbox, broker: newBroker, relay, topic }) => {
        const broker = newBroker({ maxMessageBytes: 300 });
        const big = topic('big');
        const seen = await collect(broker, big);
        const watched = relay(broker);
        await watched.start();
        await outbox.transaction((tx) =>
          tx.publish(big, [
            { key: 'k', value: 'small' },
            { key: 'k', id: 'too-big', value: 'x'.repeat(1_000) },
            { key: 'k', value: 'after' },
          ]),
        );
        await until('the others arrived', () => seen.length === 2);
        assert.deepEqual(
          seen.map((m) => m.value),
          ['small', 'after'],
        );
        const health = await watched.health();
        assert.equal(health.status, 'degraded');
        assert.equal(health.details?.['failed'], 1);
        const [row] = await database.query<{ message_id: string; failure: string }>(
          sql`SELECT message_id, failure FROM ${sql.id(outbox.tables.messages)} WHERE failure IS NOT NULL`,
        );
        assert.equal(row?.message_id, 'too-big');
        assert.match(row?.failure ?? '', /over the limit of 300/);
      }),
    );

    it(
      'refuses what no broker could take before writing, and the transaction rolls back',
      scoped(async ({ database, outbox, table, text }) => {
        const orders = table('orders');
        await database.migrate([{ id: orders, sql: `CREATE TABLE ${orders} (id ${text} PRIMARY KEY)` }]);
        for (const [publish, expected] of [
          [{ topic: '', message: { value: 1 } }, /topic: must be 1 to 249 characters/],
          [{ topic: 't', message: { value: 1n } }, /value: is not serializable as JSON/],
          [{ topic: 't', message: { value: 1, key: 7 } }, /key: must be a string/],
        ] as const) {
          await assert.rejects(
            outbox.transaction(async (tx) => {
              await tx.execute(sql`INSERT INTO ${sql.id(orders)} (id) VALUES (${'bad'})`);
              await tx.publish(publish.topic, publish.message as never);
            }),
            (error: unknown) =>
              isInfraError(error) && error.reason === 'validation' && expected.test(error.message),
          );
        }
        assert.equal(await count(database, orders), 0);
        assert.equal(await count(database, outbox.tables.messages), 0);
      }),
    );

    it(
      'applies each message once through the inbox, whatever is delivered again, and records nothing for a failed handler',
      scoped(async ({ database, broker: newBroker, topic, table, text }) => {
        const broker = newBroker();
        const inboxTable = table('inbox');
        const effects = table('effects');
        const inbox = createInbox({ sql: database, table: inboxTable, runtime: quiet() });
        await database.migrate([
          ...inbox.migrations,
          {
            id: effects,
            sql: `CREATE TABLE ${effects} (message_id ${text} NOT NULL, name ${text} NOT NULL)`,
          },
        ]);
        let failOnce = true;
        const tally = topic('tally');
        const subscription = broker.subscribe<{ name: string }>(
          tally,
          inbox.handler('tally-counter', async (message, tx) => {
            await tx.execute(
              sql`INSERT INTO ${sql.id(effects)} (message_id, name) VALUES (${message.id}, ${message.value.name})`,
            );
            if (message.value.name === 'flaky' && failOnce) {
              failOnce = false;
              throw new Error('failed after its effect: rolled back with it');
            }
          }),
          { group: `${tally}-counter`, fromBeginning: true, retryDelayMs: { initial: 1, max: 1 } },
        );
        await subscription.ready;
        for (let delivery = 0; delivery < 3; delivery++)
          await broker.publish(tally, [
            { key: 'a', id: 'm-1', value: { name: 'ann' } },
            { key: 'b', id: 'm-2', value: { name: 'bob' } },
          ]);
        await broker.publish(tally, { key: 'f', id: 'm-3', value: { name: 'flaky' } });
        await until('the inbox absorbed the redeliveries', () => inbox.duplicates.get('tally-counter') === 4);
        await until(
          'flaky was applied',
          async () => (await count(database, effects, sql`WHERE name = ${'flaky'}`)) === 1,
        );
        const rows = await database.query<{ name: string; n: unknown }>(
          sql`SELECT name, COUNT(*) AS n FROM ${sql.id(effects)} GROUP BY name ORDER BY name`,
        );
        assert.deepEqual(
          rows.map((row) => [row.name, Number(row.n)]),
          [
            ['ann', 1],
            ['bob', 1],
            ['flaky', 1],
          ],
        );
      }),
    );
  });
}
