// The Cassandra time series against the real node: the schema it creates, TTLs in whole seconds,
// index rows written once per half slack and points in batches per partition,
// hostile strings kept as data, credentials kept out of logs, errors and health, and health as
// the node comes and goes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Client, types } from 'cassandra-driver';
import {
  createCassandraTimeSeries,
  type CassandraTimeSeriesOptions,
} from '../../src/adapters/cassandra/index.ts';
import {
  isInfraError,
  Redacted,
  type StoredPoint,
  type Tags,
  type TimeSeries,
} from '../../src/ports/index.ts';
import { rejectsWith } from '../../src/testing/infra-assertions.ts';
import { capturingRuntime, silentRuntime } from '../support/runtime.ts';
import { findCassandra } from '../support/servers.ts';
import { createTcpProxy } from '../servers/fakes/tcp-proxy.ts';

const cassandra = await findCassandra();
const run = randomBytes(4).toString('hex');
const t0 = Date.UTC(2026, 0, 5, 12, 0);
const hour = 3_600_000;

describe('cassandra time series', { skip: 'skip' in cassandra ? cassandra.skip : false }, () => {
  if ('skip' in cassandra) return;
  const keyspaces: string[] = [];
  const newKeyspace = (): string => {
    const keyspace = `berth_it_${run}_${keyspaces.length}`;
    keyspaces.push(keyspace);
    return keyspace;
  };
  const optionsFor = (
    keyspace: string,
    more: Partial<CassandraTimeSeriesOptions> = {},
  ): CassandraTimeSeriesOptions => ({
    contactPoints: cassandra.contactPoints,
    localDataCenter: cassandra.localDataCenter,
    keyspace,
    createSchema: { replication: { replicationFactor: 1 } },
    // The first call creates a keyspace and three tables.
    policies: { timeoutMs: 15_000, healthTimeoutMs: 5_000 },
    ...more,
  });
  let admin: Client;
  const cql = async (query: string, params: unknown[] = []): Promise<types.Row[]> =>
    (await admin.execute(query, params, { prepare: params.length > 0 })).rows;

  before(async () => {
    admin = new Client({
      contactPoints: cassandra.contactPoints,
      localDataCenter: cassandra.localDataCenter,
      protocolOptions: { maxVersion: types.protocolVersion.v4 },
    });
    await admin.connect();
  });
  after(async () => {
    for (const keyspace of keyspaces)
      await admin.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`, [], { readTimeout: 60_000 });
    await admin.shutdown();
  });

  it('creates the schema: time-bucketed partitions newest first, TWCS windows of one bucket, the store TTL as default', async () => {
    const keyspace = newKeyspace();
    const store = createCassandraTimeSeries(
      optionsFor(keyspace, { bucketMs: 6 * hour, defaultTtlMs: 86_400_500 }),
      silentRuntime(),
    );
    try {
      await store.write({ series: 'cpu', tags: { host: 'a' }, time: t0, fields: { v: 1 } });
      const [points] = await cql(
        'SELECT compaction, default_time_to_live FROM system_schema.tables WHERE keyspace_name = ? AND table_name = ?',
        [keyspace, 'points'],
      );
      const compaction = points!.get('compaction') as Record<string, string>;
      assert.match(compaction['class'] ?? '', /TimeWindowCompactionStrategy$/);
      assert.equal(compaction['compaction_window_unit'], 'HOURS');
      assert.equal(compaction['compaction_window_size'], '6');
      // Rounded up to 86,401 s, and one more: Cassandra expires a cell at the start of a second.
      assert.equal(points!.get('default_time_to_live'), 86_402);
      const columns = await cql(
        'SELECT column_name, kind, clustering_order, type FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?',
        [keyspace, 'points'],
      );
      const byName = new Map(columns.map((row) => [row.get('column_name') as string, row]));
      assert.deepEqual(
        ['series', 'tag_key', 'bucket'].map((name) => byName.get(name)?.get('kind') as string),
        ['partition_key', 'partition_key', 'partition_key'],
      );
      assert.equal(byName.get('time')?.get('clustering_order'), 'desc');
      assert.equal(byName.get('fields')?.get('type'), 'frozen<map<text, double>>');
      const tables = await cql('SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?', [
        keyspace,
      ]);
      assert.deepEqual(tables.map((row) => row.get('table_name') as string).sort(), [
        'points',
        'stream_buckets',
        'tag_sets',
      ]);
      // Without createSchema the adapter expects the schema: it says what is missing, once, as config.
      const missing = createCassandraTimeSeries(
        { ...optionsFor(`${keyspace}_absent`), createSchema: undefined },
        silentRuntime(),
      );
      try {
        const error = await rejectsWith(missing.latest('cpu', {}), 'config');
        assert.match(error.message, /createSchema/);
      } finally {
        await missing.close();
      }
    } finally {
      await store.close();
    }
  });

  it('sets a TTL per write in whole seconds, rounded up; a point without one stays', async () => {
    const keyspace = newKeyspace();
    const store = createCassandraTimeSeries(optionsFor(keyspace), silentRuntime());
    try {
      const tags = { host: 'ttl' };
      await store.write({ series: 'ttl', tags, time: t0, fields: { v: 0 } });
      await store.write({ series: 'ttl', tags, time: t0 + 1, fields: { v: 1 } }, { ttlMs: hour + 1 });
      await store.write({ series: 'ttl', tags, time: t0 + 2, fields: { v: 2 } }, { ttlMs: 1_000 });
      const ttls = await cql(
        `SELECT time, ttl(fields) AS ttl FROM ${keyspace}.points WHERE series = ? AND tag_key = ? AND bucket = ?`,
        ['ttl', JSON.stringify([['host', 'ttl']]), new Date(t0 - (t0 % 86_400_000))],
      );
      const byTime = new Map(
        ttls.map((row) => [(row.get('time') as Date).getTime(), row.get('ttl') as number | null]),
      );
      assert.equal(byTime.get(t0), null, 'no TTL');
      // An hour and a millisecond: 3,601 s rounded up, and one more since Cassandra expires a cell
      // at the start of a second (a TTL of n s may last only n - 1); a second may have passed since.
      const oneHour = byTime.get(t0 + 1);
      assert.ok(oneHour === 3_602 || oneHour === 3_601, `an hour and a millisecond: 3602 s, got ${oneHour}`);
      // The index rows record the TTL each was written with, exactly.
      const indexed = await cql(
        `SELECT ttl_seconds FROM ${keyspace}.stream_buckets WHERE series = ? AND tag_key = ?`,
        ['ttl', JSON.stringify([['host', 'ttl']])],
      );
      assert.deepEqual(
        indexed.map((row) => row.get('ttl_seconds') as number).sort((a, b) => a - b),
        [0, 2, 3_602],
      );
      const deadline = performance.now() + 5_000;
      while ((await readAll(store, 'ttl', tags)).length > 2) {
        assert.ok(performance.now() < deadline, 'a point with a 1 s TTL is still there after 5 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.deepEqual(
        (await readAll(store, 'ttl', tags)).map((point) => point.fields['v']),
        [0, 1],
      );
    } finally {
      await store.close();
    }
  });

  it('reads buckets in time order, at most maxBucketsInFlight at once, and stops at the limit', async () => {
    const store = createCassandraTimeSeries(
      optionsFor(newKeyspace(), { bucketMs: 1_000, maxBucketsInFlight: 3 }),
      silentRuntime(),
    );
    try {
      const tags = { host: 'sparse' };
      // One point in each of 40 one-second buckets.
      const points = Array.from({ length: 40 }, (_, i) => ({
        series: 'sparse',
        tags,
        time: t0 + i * 1_000 + i,
        fields: { v: i },
      }));
      await store.write(points);
      // Every statement the adapter sends goes through the client's execute: count the point reads.
      const client = store.client();
      const execute = client.execute.bind(client) as (...args: unknown[]) => Promise<types.ResultSet>;
      let reading = 0;
      let mostAtOnce = 0;
      let reads = 0;
      Object.assign(client, {
        execute: async (...args: unknown[]) => {
          if (!String(args[0]).includes('SELECT time, fields')) return execute(...args);
          reads++;
          mostAtOnce = Math.max(mostAtOnce, ++reading);
          try {
            return await execute(...args);
          } finally {
            reading--;
          }
        },
      });
      const query = { series: 'sparse', tags, from: t0, to: t0 + 60_000 };
      const limited = await collect(store.range({ ...query, limit: 5 }));
      assert.deepEqual(limited, points.slice(0, 5));
      assert.equal(reads, 5, 'one bucket read per point: none beyond the limit');
      reads = 0;
      const backwards = await collect(store.range({ ...query, order: 'desc', pageSize: 7 }));
      assert.deepEqual(backwards, [...points].reverse());
      assert.equal(mostAtOnce, 3, 'read ahead, and never more than maxBucketsInFlight at once');
      assert.equal(reads, 40, 'each bucket read once, none read ahead past a page');
    } finally {
      await store.close();
    }
  });

  it("writes a TTL'd index row once per half slack, living its TTL plus the slack, and a partition's points in unlogged batches", async () => {
    const keyspace = newKeyspace();
    const store = createCassandraTimeSeries(optionsFor(keyspace), silentRuntime());
    try {
      await store.latest('warm', {}); // the schema, before statements are counted
      const client = store.client();
      const execute = client.execute.bind(client) as (...args: unknown[]) => Promise<types.ResultSet>;
      const batch = client.batch.bind(client) as (...args: unknown[]) => Promise<types.ResultSet>;
      const sent = { tagSets: 0, buckets: 0, points: 0 };
      const batches: { params: unknown[] }[][] = [];
      Object.assign(client, {
        execute: (...args: unknown[]) => {
          const query = String(args[0]);
          if (query.startsWith(`INSERT INTO ${keyspace}.tag_sets`)) sent.tagSets++;
          if (query.startsWith(`INSERT INTO ${keyspace}.stream_buckets`)) sent.buckets++;
          if (query.startsWith(`INSERT INTO ${keyspace}.points`)) sent.points++;
          return execute(...args);
        },
        batch: (...args: unknown[]) => {
          batches.push(args[0] as { params: unknown[] }[]);
          return batch(...args);
        },
      });
      const tags = { host: 'index' };
      const point = (i: number) => ({ series: 'index', tags, time: t0 + i, fields: { v: i } });
      for (let i = 0; i < 20; i++) await store.write(point(i), { ttlMs: hour });
      assert.deepEqual(sent, { tagSets: 1, buckets: 1, points: 20 }, 'an hour: the index rows once');
      for (let i = 20; i < 23; i++) await store.write(point(i), { ttlMs: 1_000 });
      assert.deepEqual(sent, { tagSets: 4, buckets: 4, points: 23 }, 'a second: the index rows every time');
      for (let i = 23; i < 26; i++) await store.write(point(i));
      assert.deepEqual(sent, { tagSets: 5, buckets: 5, points: 26 }, 'no TTL: the index rows once');

      // 150 points on the day of t0 and 100 on the next: batches of 100, 50 and 100, one day each.
      const day = 86_400_000;
      const many = Array.from({ length: 250 }, (_, i) => point(i < 150 ? 1_000 + i : day + i));
      await store.write(many, { ttlMs: hour });
      assert.deepEqual(
        sent,
        { tagSets: 6, buckets: 6, points: 26 },
        "the new day's bucket row, with its tag set",
      );
      assert.deepEqual(
        batches.map((queries) => queries.length),
        [100, 50, 100],
      );
      for (const queries of batches) {
        const partitions = new Set(queries.map(({ params }) => JSON.stringify(params.slice(0, 3))));
        assert.equal(partitions.size, 1, 'a batch holds the points of one partition');
      }
      const read: StoredPoint[] = [];
      for await (const stored of store.range({ series: 'index', tags, from: t0, to: t0 + 2 * day }))
        read.push(stored);
      assert.deepEqual(
        read.filter((stored) => stored.time >= t0 + 1_000),
        many,
      );

      // Index rows live their points' TTL plus a slack of a tenth of it (an hour at most); exact
      // below ten minutes; without a TTL, none.
      const rows = await cql(
        `SELECT ttl_seconds, ttl(tags) AS ttl FROM ${keyspace}.tag_sets WHERE series = ?`,
        ['index'],
      );
      const ttls = new Map(
        rows.map((row) => [row.get('ttl_seconds') as number, row.get('ttl') as number | null]),
      );
      assert.equal(ttls.get(0), null);
      // An hour: 3,601 s (see above), and 361 s of slack.
      const hourRow = ttls.get(3_601) ?? 0;
      assert.ok(hourRow > 3_601 + 300 && hourRow <= 3_601 + 361, `an hour's tag set row: ${hourRow} s`);
      assert.ok((ttls.get(2) ?? 0) <= 2, `a second's tag set row: ${ttls.get(2)} s`);
    } finally {
      await store.close();
    }
  });

  it('stores hostile tag values as bound data, refuses hostile names, and a canary table survives', async () => {
    const keyspace = newKeyspace();
    const store = createCassandraTimeSeries(optionsFor(keyspace), silentRuntime());
    try {
      await store.write({ series: 'hostile', tags: {}, time: t0, fields: { v: 0 } });
      await admin.execute(
        `CREATE TABLE IF NOT EXISTS ${keyspace}.canary (id int PRIMARY KEY, alive boolean)`,
      );
      await cql(`INSERT INTO ${keyspace}.canary (id, alive) VALUES (?, ?)`, [1, true]);
      const hostile = [
        `x'); DROP TABLE ${keyspace}.canary; --`,
        `'; DROP KEYSPACE ${keyspace}; --`,
        `$$ ) ; TRUNCATE ${keyspace}.canary ; $$`,
        '*/ DELETE FROM canary WHERE id = 1; /*',
        '["host","a"]],[["injected","json"]',
        "\\' \0 \u2028 ✓",
      ];
      const points = hostile.map((value, i) => ({
        series: 'hostile',
        tags: { host: value },
        time: t0 + i,
        fields: { v: i },
      }));
      await store.write(points);
      for (const point of points) {
        assert.deepEqual(await store.latest('hostile', point.tags), point);
        assert.deepEqual(await readAll(store, 'hostile', point.tags), [point]);
      }
      const listed = (await store.tagSets('hostile')).map((tags) => tags['host']).filter(Boolean);
      assert.deepEqual(listed.sort(), [...hostile].sort());
      // Stored as data: the tag-set key is the tags' JSON, column by column.
      const keys = await cql(`SELECT tag_key, tags FROM ${keyspace}.tag_sets WHERE series = ?`, ['hostile']);
      assert.ok(keys.some((row) => row.get('tag_key') === JSON.stringify([['host', hostile[0]]])));
      for (const series of [`s'; DROP TABLE ${keyspace}.canary; --`, 'a b', '']) {
        const error = await rejectsWith(
          store.write({ series, tags: {}, time: t0, fields: { v: 1 } }),
          'validation',
        );
        assert.match(error.message, /series/);
      }
      await rejectsWith(
        store.write({ series: 'hostile', tags: { "k'); --": 'v' }, time: t0, fields: { v: 1 } }),
        'validation',
      );
      // The keyspace and data center names are written into statements: only strict names pass.
      for (const [bad, path] of [
        [{ keyspace: `${keyspace}.canary; DROP TABLE x` }, 'keyspace'],
        [{ keyspace: `"${keyspace}"` }, 'keyspace'],
        [
          {
            createSchema: {
              replication: {
                class: 'NetworkTopologyStrategy',
                dataCenters: { "dc1': 1}; DROP KEYSPACE x; --": 1 },
              },
            },
          },
          'createSchema.replication',
        ],
      ] as const) {
        assert.throws(
          () => createCassandraTimeSeries({ ...optionsFor(keyspace), ...bad }),
          (error: unknown) =>
            isInfraError(error) && error.reason === 'config' && error.message.includes(path),
        );
      }
      const canary = await cql(`SELECT alive FROM ${keyspace}.canary WHERE id = ?`, [1]);
      assert.deepEqual(
        canary.map((row) => row.get('alive') as boolean),
        [true],
      );
    } finally {
      await store.close();
    }
  });

  it('keeps credentials out of logs, errors and health, whether the node answers or not', async () => {
    const username = `berth_user_${run}`;
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const runtime = capturingRuntime();
    const keyspace = newKeyspace();
    // The test node lets anyone in (AllowAllAuthenticator): the credentials are offered, unused.
    const reachable = createCassandraTimeSeries(
      optionsFor(keyspace, { credentials: { username, password: new Redacted(password) } }),
      runtime,
    );
    const unreachable = createCassandraTimeSeries(
      optionsFor(keyspace, {
        contactPoints: ['127.0.0.1:1'],
        credentials: { username, password },
        connectTimeoutMs: 500,
        policies: { timeoutMs: 5_000, healthTimeoutMs: 5_000, retry: { maxAttempts: 2 } },
      }),
      runtime,
    );
    const seen: string[] = [];
    try {
      await reachable.write({ series: 'creds', tags: {}, time: t0, fields: { v: 1 } });
      assert.equal((await reachable.latest('creds', {}))?.fields['v'], 1);
      const up = await reachable.health();
      assert.equal(up.status, 'up', up.error);
      seen.push(JSON.stringify(up), inspect(reachable, { depth: 4 }));
      const error = await rejectsWith(
        unreachable.write({ series: 'creds', tags: {}, time: t0, fields: { v: 1 } }),
        'unavailable',
      );
      seen.push(error.message, String(error.cause), inspect(error, { depth: 6 }));
      const down = await unreachable.health();
      assert.equal(down.status, 'down');
      seen.push(JSON.stringify(down));
    } finally {
      await reachable.close();
      await unreachable.close();
    }
    seen.push(runtime.logs());
    for (const text of seen) {
      assert.ok(!text.includes(password), `the password leaked: ${text.slice(0, 200)}`);
      assert.ok(!text.includes(username), `the username leaked: ${text.slice(0, 200)}`);
    }
  });

  it('reports up, then down when the node is cut off, then degraded while its circuit is still open', async () => {
    const [host, port] = cassandra.contactPoints[0]!.split(':');
    await using proxy = await createTcpProxy({ host: host!, port: Number(port) });
    const store = createCassandraTimeSeries(
      optionsFor(newKeyspace(), {
        contactPoints: [`${proxy.host}:${proxy.port}`],
        policies: {
          timeoutMs: 15_000,
          healthTimeoutMs: 5_000,
          retry: { maxAttempts: 1 },
          breaker: { consecutiveFailures: 2, halfOpenAfterMs: 600_000 },
        },
      }),
      silentRuntime(),
    );
    try {
      await store.write({ series: 'health', tags: {}, time: t0, fields: { v: 1 } });
      const up = await store.health();
      assert.equal(up.status, 'up', up.error);
      assert.equal(typeof up.details?.['releaseVersion'], 'string');
      assert.deepEqual([up.details?.['hosts'], up.details?.['hostsUp']], [1, 1]);
      proxy.cut();
      for (let i = 0; i < 2; i++) {
        await assert.rejects(store.latest('health', {}), (error: unknown) => {
          assert.ok(isInfraError(error) && ['unavailable', 'timeout'].includes(error.reason), String(error));
          return true;
        });
      }
      const down = await store.health();
      assert.equal(down.status, 'down');
      assert.equal(down.details?.['circuit'], 'open');
      proxy.restore();
      // The driver reconnects on its own (reconnection capped at a few seconds); the circuit stays open.
      const deadline = performance.now() + 15_000;
      let health = await store.health();
      while (health.status !== 'degraded' && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        health = await store.health();
      }
      assert.equal(health.status, 'degraded', health.error);
      assert.equal(health.details?.['circuit'], 'open');
    } finally {
      await store.close();
    }
  });
});

async function readAll(store: TimeSeries, series: string, tags: Tags): Promise<StoredPoint[]> {
  const points: StoredPoint[] = [];
  for await (const point of store.range({ series, tags, from: 0, to: t0 + hour })) points.push(point);
  return points;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
