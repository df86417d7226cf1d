// Issue #27 on the embedded database and the memory broker: what a transaction writes through the
// outbox is published after the commit and never after a rollback; a relay that cannot publish
// keeps the rows, reports degraded and drains them once the broker answers; two relays at once
// publish each row once; the inbox applies each message once however often it arrives.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { createMemoryBroker } from '../../src/adapters/memory/index.ts';
import { createEmbeddedDatabase } from '../../src/adapters/postgres/embedded.ts';
import {
  InfraError,
  isInfraError,
  sql,
  type Broker,
  type ReceivedMessage,
  type SqlDatabase,
} from '../../src/ports/index.ts';
import {
  createInbox,
  createLogger,
  createOutbox,
  createOutboxRelay,
  createRuntime,
  type Outbox,
  type OutboxRelay,
  type Runtime,
} from '../../src/runtime/index.ts';

const runtime = (): Runtime =>
  createRuntime({
    logger: createLogger({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' }),
    registry: new Registry(),
  });

async function until(what: string, done: () => boolean | Promise<boolean>, withinMs = 10_000): Promise<void> {
  const started = performance.now();
  while (!(await done())) {
    assert.ok(performance.now() - started < withinMs, `${what} within ${withinMs} ms`);
    await sleep(10);
  }
}

/** Every message of `topic` that reaches a subscription, in arrival order. */
function collect(broker: Broker, topic: string, group: string): ReceivedMessage[] {
  const seen: ReceivedMessage[] = [];
  broker.subscribe(
    topic,
    (message) => {
      seen.push(message);
      return Promise.resolve();
    },
    { group, fromBeginning: true },
  );
  return seen;
}

describe('outbox and inbox on the embedded database and the memory broker', () => {
  let database: SqlDatabase & { start(): Promise<void> };
  let outbox: Outbox;
  const relays: OutboxRelay[] = [];
  const relay = (
    broker: Broker,
    options: { pollIntervalMs?: number; leaseMs?: number } = {},
  ): OutboxRelay => {
    const made = createOutboxRelay({ outbox, broker, runtime: runtime(), pollIntervalMs: 50, ...options });
    relays.push(made);
    return made;
  };

  before(async () => {
    database = createEmbeddedDatabase({}, runtime());
    await database.start();
    outbox = createOutbox({ sql: database, runtime: runtime(), partitions: 4 });
    await database.migrate([
      ...outbox.migrations,
      { id: 'orders', sql: 'CREATE TABLE orders (id text PRIMARY KEY, total int NOT NULL)' },
    ]);
  });
  after(async () => {
    await Promise.all(relays.map((r) => r.close()));
    await database.close();
  });

  it('publishes what a committed transaction wrote, with its id, key and headers, and nothing of one rolled back', async () => {
    const broker = createMemoryBroker({}, runtime());
    const seen = collect(broker, 'orders.placed', 'g1');
    const started = relay(broker);
    await started.start();
    await outbox.transaction(async (tx) => {
      await tx.execute(sql`INSERT INTO orders (id, total) VALUES (${'o-1'}, ${10})`);
      await tx.publish('orders.placed', {
        key: 'o-1',
        id: 'event-1',
        value: { total: 10 },
        headers: { tenant: 't' },
      });
    });
    await assert.rejects(
      outbox.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO orders (id, total) VALUES (${'o-2'}, ${20})`);
        await tx.publish('orders.placed', { key: 'o-2', value: { total: 20 } });
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    await until('the committed event arrived', () => seen.length === 1);
    await sleep(200);
    assert.deepEqual(
      seen.map((m) => ({ id: m.id, key: m.key, value: m.value, tenant: m.headers['tenant'] })),
      [{ id: 'event-1', key: 'o-1', value: { total: 10 }, tenant: 't' }],
    );
    const [{ rows } = { rows: -1 }] = await database.query<{ rows: number }>(
      sql`SELECT COUNT(*)::int AS rows FROM berth_outbox`,
    );
    assert.equal(rows, 0, 'published rows are deleted');
    assert.deepEqual(await database.query(sql`SELECT id FROM orders ORDER BY id`), [{ id: 'o-1' }]);
    await started.close();
    await broker.close();
  });

  it('keeps the rows while the broker fails, reports degraded and the pending count, and drains them once it answers', async () => {
    const broker = createMemoryBroker({}, runtime());
    let down = true;
    const flaky: Broker = {
      ...broker,
      publish: (topic, messages, options) =>
        down
          ? Promise.reject(new InfraError('unavailable', 'broker down for the test', { port: 'broker' }))
          : broker.publish(topic, messages, options),
    };
    const seen = collect(broker, 'orders.flaky', 'g1');
    const registry = new Registry();
    const watched = createOutboxRelay({
      outbox,
      broker: flaky,
      runtime: createRuntime({ logger: createLogger({ level: 'silent' }), registry }),
      pollIntervalMs: 50,
      maxAgeMs: 100,
    });
    relays.push(watched);
    await watched.start();
    for (let n = 0; n < 5; n++)
      await outbox.transaction((tx) => tx.publish('orders.flaky', { key: `k${n % 2}`, value: n }));
    await sleep(300);
    const health = await watched.health();
    assert.equal(health.status, 'degraded', JSON.stringify(health));
    assert.equal(health.details?.['pending'], 5);
    assert.match(String(health.details?.['lastFailure']), /broker down for the test/, JSON.stringify(health));
    const metrics = await registry.getSingleMetricAsString('berth_outbox_pending_messages');
    assert.match(metrics, /berth_outbox_pending_messages\{component="outbox-relay:berth_outbox"\} 5/);
    assert.equal(seen.length, 0);
    down = false;
    await until('the rows drained', () => seen.length === 5);
    for (const key of ['k0', 'k1'])
      assert.deepEqual(
        seen.filter((m) => m.key === key).map((m) => m.value),
        [0, 1, 2, 3, 4].filter((n) => `k${n % 2}` === key),
        `${key} in order`,
      );
    await until('health up again', async () => (await watched.health()).status === 'up');
    await watched.close();
    await broker.close();
  });

  it('publishes each row once with two relays at once, in order per key', async () => {
    const broker = createMemoryBroker({}, runtime());
    const seen = collect(broker, 'orders.two', 'g1');
    const first = relay(broker);
    const second = relay(broker);
    await Promise.all([first.start(), second.start()]);
    const keys = 20;
    const perKey = 25;
    await Promise.all(
      Array.from({ length: keys }, async (_, k) => {
        for (let n = 0; n < perKey; n++)
          await outbox.transaction((tx) => tx.publish('orders.two', { key: `key-${k}`, value: { k, n } }));
      }),
    );
    await until('every message arrived', () => seen.length >= keys * perKey, 30_000);
    await sleep(300);
    const ids = seen.map((m) => m.id);
    assert.equal(new Set(ids).size, ids.length, `${ids.length - new Set(ids).size} published twice`);
    assert.equal(ids.length, keys * perKey);
    for (let k = 0; k < keys; k++) {
      const order = seen.filter((m) => m.key === `key-${k}`).map((m) => (m.value as { n: number }).n);
      assert.deepEqual(
        order,
        Array.from({ length: perKey }, (_, n) => n),
        `key-${k} in order`,
      );
    }
    // The second to start takes its share at its next lease round at the latest.
    await until(
      'the four partitions shared',
      async () =>
        (await Promise.all([first.health(), second.health()])).every((h) => h.details?.['partitions'] === 2),
      15_000,
    );
    await Promise.all([first.close(), second.close()]);
    await broker.close();
  });

  it('moves a closed relay’s partitions to the one left, which carries on', async () => {
    const broker = createMemoryBroker({}, runtime());
    const seen = collect(broker, 'orders.handoff', 'g1');
    const first = relay(broker);
    const second = relay(broker);
    await Promise.all([first.start(), second.start()]);
    await outbox.transaction((tx) =>
      tx.publish(
        'orders.handoff',
        Array.from({ length: 20 }, (_, n) => ({ key: `k${n}`, value: n })),
      ),
    );
    await until('the first batch arrived', () => seen.length === 20);
    await first.close();
    await outbox.transaction((tx) =>
      tx.publish(
        'orders.handoff',
        Array.from({ length: 20 }, (_, n) => ({ key: `k${n}`, value: 20 + n })),
      ),
    );
    await until('the second batch arrived through the relay left', () => seen.length === 40);
    assert.equal((await second.health()).details?.['partitions'], 4);
    await second.close();
    await broker.close();
  });

  it('sets aside a message the broker refuses for good, publishes the rest, and reports it', async () => {
    const broker = createMemoryBroker({ maxMessageBytes: 200 }, runtime());
    const seen = collect(broker, 'orders.big', 'g1');
    const watched = relay(broker);
    await watched.start();
    await outbox.transaction((tx) =>
      tx.publish('orders.big', [
        { key: 'k', value: 'small' },
        { key: 'k', id: 'too-big', value: 'x'.repeat(500) },
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
      sql`SELECT message_id, failure FROM berth_outbox WHERE failure IS NOT NULL`,
    );
    assert.equal(row?.message_id, 'too-big');
    assert.match(row?.failure ?? '', /over the limit of 200/);
    await database.execute(sql`DELETE FROM berth_outbox`);
    await watched.close();
    await broker.close();
  });

  it('refuses what no broker could take before writing, and the transaction rolls back', async () => {
    for (const [publish, expected] of [
      [{ topic: '', message: { value: 1 } }, /topic: must be 1 to 249 characters/],
      [{ topic: 't', message: { value: 1n } }, /value: is not serializable as JSON/],
      [{ topic: 't', message: { value: 1, key: 7 } }, /key: must be a string/],
    ] as const) {
      await assert.rejects(
        outbox.transaction(async (tx) => {
          await tx.execute(sql`INSERT INTO orders (id, total) VALUES (${'bad'}, ${1})`);
          await tx.publish(publish.topic, publish.message as never);
        }),
        (error: unknown) =>
          isInfraError(error) && error.reason === 'validation' && expected.test(error.message),
      );
    }
    assert.deepEqual(await database.query(sql`SELECT id FROM orders WHERE id = ${'bad'}`), []);
  });

  it('applies each message once through the inbox, whatever is delivered again, and records nothing for a failed handler', async () => {
    const broker = createMemoryBroker({}, runtime());
    const inbox = createInbox({ sql: database, runtime: runtime() });
    await database.migrate([
      ...inbox.migrations,
      { id: 'tallies', sql: 'CREATE TABLE tallies (name text PRIMARY KEY, n int NOT NULL)' },
    ]);
    let failOnce = true;
    const subscription = broker.subscribe<{ name: string }>(
      'tally',
      inbox.handler('tally-counter', async (message, tx) => {
        await tx.execute(
          sql`INSERT INTO tallies (name, n) VALUES (${message.value.name}, 1) ON CONFLICT (name) DO UPDATE SET n = tallies.n + 1`,
        );
        if (message.value.name === 'flaky' && failOnce) {
          failOnce = false;
          throw new Error('failed after its effect: rolled back with it');
        }
      }),
      { group: 'g', fromBeginning: true, retryDelayMs: { initial: 1, max: 1 } },
    );
    await subscription.ready;
    for (let delivery = 0; delivery < 3; delivery++)
      await broker.publish('tally', [
        { id: 'm-1', value: { name: 'ann' } },
        { id: 'm-2', value: { name: 'bob' } },
      ]);
    await broker.publish('tally', { id: 'm-3', value: { name: 'flaky' } });
    await until(
      'the inbox absorbed the redeliveries',
      () => (inbox.duplicates.get('tally-counter') ?? 0) === 4,
    );
    await until(
      'flaky was applied',
      async () => (await database.query(sql`SELECT n FROM tallies WHERE name = ${'flaky'}`)).length === 1,
    );
    assert.deepEqual(await database.query(sql`SELECT name, n FROM tallies ORDER BY name`), [
      { name: 'ann', n: 1 },
      { name: 'bob', n: 1 },
      { name: 'flaky', n: 1 },
    ]);
    await broker.close();
  });
});
