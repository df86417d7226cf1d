import { after, describe } from 'node:test';
import { Client, types } from 'cassandra-driver';
import { createCassandraTimeSeries } from '../../src/adapters/cassandra/index.ts';
import { timeSeriesConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findCassandra } from '../support/servers.ts';

const cassandra = await findCassandra();

if ('skip' in cassandra) {
  describe('time series conformance: cassandra', { skip: cassandra.skip }, () => undefined);
} else {
  // One keyspace per namespace, created by the adapter on first use and dropped afterwards.
  const keyspaces = new Set<string>();
  after(async () => {
    const client = new Client({
      contactPoints: cassandra.contactPoints,
      localDataCenter: cassandra.localDataCenter,
      protocolOptions: { maxVersion: types.protocolVersion.v4 },
    });
    try {
      for (const keyspace of keyspaces)
        await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`, [], { readTimeout: 60_000 });
    } finally {
      await client.shutdown();
    }
  });

  // Days as in production, and 10 s so that the suite's ranges and aggregates cross many buckets.
  for (const bucketMs of [undefined, 10_000]) {
    timeSeriesConformance({
      name: bucketMs === undefined ? 'cassandra' : `cassandra, ${bucketMs / 1_000} s buckets`,
      create: (namespace, retention) => {
        const keyspace = namespace.replaceAll('-', '_');
        keyspaces.add(keyspace);
        return createCassandraTimeSeries(
          {
            contactPoints: cassandra.contactPoints,
            localDataCenter: cassandra.localDataCenter,
            keyspace,
            consistency: 'localOne',
            createSchema: { replication: { replicationFactor: 1 } },
            ...(bucketMs === undefined ? {} : { bucketMs }),
            ...retention,
            // The first call of a namespace creates its keyspace and three tables (~1 s idle, more
            // while other suites load the node).
            policies: { timeoutMs: 15_000 },
          },
          silentRuntime(),
        );
      },
      features: { shared: true, ttlResolutionMs: 1_000 },
    });
  }
}
