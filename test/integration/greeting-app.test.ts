// The example service's app on the test composition: every port on memory in one call, then
// the cache replaced by a real Redis one, the rest left on memory.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGreetingApp } from '../../examples/greeting-app.ts';
import { createRedisCache } from '../../src/adapters/redis/index.ts';
import { createLogger, sql, type Infrastructure } from '../../src/index.ts';
import { createTestInfrastructure } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findRedis } from '../support/servers.ts';

const redis = await findRedis();

/** Greets `name` twice over HTTP and waits for the two `greeted` events to be counted. */
async function greetTwice(infra: Infrastructure, name: string): Promise<void> {
  const app = createGreetingApp(infra, createLogger({ level: 'silent' }));
  const server = createServer((req, res) => {
    if (!app.handle(req, res)) res.writeHead(404).end();
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const first = (await (await fetch(`${base}/greet/${name}`)).json()) as { greeting: string; at: string };
    const second = (await (await fetch(`${base}/greet/${name}`)).json()) as { at: string };
    assert.equal(first.greeting, `Hello, ${name}!`);
    assert.equal(second.at, first.at, 'the second greeting came from the cache');
    for (let waited = 0; ; waited += 50) {
      const counted = (await (await fetch(`${base}/greeted/${name}`)).json()) as { count: number };
      if (counted.count === 2) break;
      assert.ok(waited < 10_000, `two greeted events counted, saw ${counted.count}`);
      await sleep(50);
    }
    const [row] = await infra.sql.query<{ count: bigint }>(
      sql`SELECT count FROM greeting_counts WHERE name = ${name}`,
    );
    assert.equal(row?.count, 2n, 'the count is a row of the SQL database');
    const stats = (await (await fetch(`${base}/stats/${name}`)).json()) as {
      perMinute: { start: string; count: number }[];
    };
    assert.equal(
      stats.perMinute.reduce((sum, minute) => sum + minute.count, 0),
      2,
      'both greetings are points in the last hour',
    );
    assert.ok(
      stats.perMinute.every((minute) => Date.parse(minute.start) % 60_000 === 0),
      'windows start on minutes',
    );
  } finally {
    server.close();
  }
}

describe('the example app on createTestInfrastructure', () => {
  it('runs on every port in memory', async () => {
    await using infra = await createTestInfrastructure();
    assert.deepEqual(
      (['secrets', 'cache', 'documents', 'sql', 'timeSeries', 'llm', 'executor', 'broker'] as const).map(
        (port) => infra.get(port).id,
      ),
      [
        'secrets:memory',
        'cache:memory',
        'documents:memory',
        'sql:embedded',
        'time-series:memory',
        'llm:memory',
        'executor:memory',
        'broker:memory',
      ],
    );
    await greetTwice(infra, 'ada');
  });

  it(
    'runs with the cache replaced by a real Redis one',
    { skip: 'skip' in redis ? redis.skip : false },
    async () => {
      if ('skip' in redis) return;
      const keyPrefix = `greeting-app-${randomUUID().slice(0, 8)}:`;
      const cache = createRedisCache({ url: redis.url, keyPrefix }, silentRuntime());
      await using infra = await createTestInfrastructure({ replace: { cache } });
      assert.equal(infra.cache, cache);
      assert.equal(infra.broker.id, 'broker:memory');
      await greetTwice(infra, 'grace');
      const stored: string[] = [];
      for await (const key of cache.keys()) stored.push(key);
      assert.deepEqual(stored, ['greeting:grace'], 'the greeting is in Redis');
      await cache.clear();
    },
  );
});
