// The `cassandra` test server (Apache Cassandra 5.0, see test/servers/launchers/cassandra.ts), reached
// with cassandra-driver: CQL answers, a write reads back, a TTL expires.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, types } from 'cassandra-driver';
import { findCassandra } from '../support/servers.ts';

const cassandra = await findCassandra();
const keyspace = `berth_service_${process.pid}_${Date.now()}`;

describe(
  'cassandra (CASSANDRA_CONTACT_POINTS, scripts/services.ts or a container) with cassandra-driver',
  { skip: 'skip' in cassandra ? cassandra.skip : false },
  () => {
    let client: Client;

    before(async () => {
      assert.ok(!('skip' in cassandra));
      client = new Client({
        contactPoints: cassandra.contactPoints,
        localDataCenter: cassandra.localDataCenter,
        protocolOptions: { maxVersion: types.protocolVersion.v4 },
        socketOptions: { connectTimeout: 10_000, readTimeout: 30_000 },
      });
      await client.connect();
      await client.execute(
        `CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
      );
      await client.execute(
        `CREATE TABLE ${keyspace}.points (series text, ts timestamp, value double, PRIMARY KEY (series, ts))` +
          ' WITH CLUSTERING ORDER BY (ts DESC)',
      );
    });

    after(async () => {
      await client?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
      await client?.shutdown();
    });

    it('reports the local data center the env names', async () => {
      assert.ok(!('skip' in cassandra));
      const local = await client.execute('SELECT data_center, release_version FROM system.local');
      assert.equal(local.first().get('data_center'), cassandra.localDataCenter);
      assert.match(String(local.first().get('release_version')), /^5\.0\./);
    });

    it('writes points with prepared statements and reads them back newest first', async () => {
      const insert = `INSERT INTO ${keyspace}.points (series, ts, value) VALUES (?, ?, ?)`;
      const base = Date.UTC(2026, 0, 1);
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          client.execute(insert, ['cpu', new Date(base + i * 1000), i / 2], { prepare: true }),
        ),
      );
      const result = await client.execute(
        `SELECT ts, value FROM ${keyspace}.points WHERE series = ? LIMIT 3`,
        ['cpu'],
        { prepare: true },
      );
      assert.deepEqual(
        result.rows.map((row) => [(row.get('ts') as Date).getTime(), row.get('value') as number]),
        [
          [base + 99_000, 49.5],
          [base + 98_000, 49],
          [base + 97_000, 48.5],
        ],
      );
    });

    it('forgets a point written with a 1 s TTL, keeps one without', async () => {
      const ts = new Date(Date.UTC(2026, 0, 2));
      await client.execute(
        `INSERT INTO ${keyspace}.points (series, ts, value) VALUES (?, ?, ?) USING TTL 1`,
        ['short', ts, 1],
        { prepare: true },
      );
      await client.execute(
        `INSERT INTO ${keyspace}.points (series, ts, value) VALUES (?, ?, ?)`,
        ['long', ts, 2],
        {
          prepare: true,
        },
      );
      const count = async (series: string) =>
        (
          await client.execute(`SELECT value FROM ${keyspace}.points WHERE series = ?`, [series], {
            prepare: true,
          })
        ).rowLength;
      assert.equal(await count('short'), 1);
      await sleep(2100);
      assert.equal(await count('short'), 0);
      assert.equal(await count('long'), 1);
    });
  },
);
