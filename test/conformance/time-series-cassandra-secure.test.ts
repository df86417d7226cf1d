// The time series conformance on Cassandra with PasswordAuthenticator and client encryption
// required (optional: false): a login role and TLS verified against the run's CA.
import fs from 'node:fs';
import { after, describe } from 'node:test';
import { auth, Client, types } from 'cassandra-driver';
import { createCassandraTimeSeries } from '../../src/adapters/cassandra/index.ts';
import { Redacted } from '../../src/ports/redacted.ts';
import { timeSeriesConformance } from '../../src/testing/index.ts';
import { secretWatch, serverSecrets } from '../support/secret-watch.ts';
import { findCassandraSecure } from '../support/secure-servers.ts';

const cassandra = await findCassandraSecure();

if ('skip' in cassandra) {
  describe(
    'time series conformance: cassandra over TLS with a login',
    { skip: cassandra.skip },
    () => undefined,
  );
} else {
  const ca = fs.readFileSync(cassandra.caFile, 'utf8');
  const keyspaces = new Set<string>();
  const watch = secretWatch();
  after(() => watch.assertNoSecrets(serverSecrets(cassandra)));
  after(async () => {
    const client = new Client({
      contactPoints: [cassandra.url],
      localDataCenter: cassandra.localDataCenter,
      protocolOptions: { maxVersion: types.protocolVersion.v4 },
      sslOptions: { ca },
      authProvider: new auth.PlainTextAuthProvider(cassandra.username, cassandra.password),
    });
    try {
      for (const keyspace of keyspaces)
        await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`, [], { readTimeout: 60_000 });
    } finally {
      await client.shutdown();
    }
  });
  timeSeriesConformance({
    name: 'cassandra over TLS with a login',
    create: (namespace, retention) => {
      const keyspace = namespace.replaceAll('-', '_');
      keyspaces.add(keyspace);
      return createCassandraTimeSeries(
        {
          contactPoints: [cassandra.url],
          localDataCenter: cassandra.localDataCenter,
          keyspace,
          consistency: 'localOne',
          credentials: { username: cassandra.username, password: new Redacted(cassandra.password) },
          tls: { ca },
          createSchema: { replication: { replicationFactor: 1 } },
          ...retention,
          policies: { timeoutMs: 15_000 },
        },
        watch.runtime,
      );
    },
    features: { shared: true, ttlResolutionMs: 1_000 },
  });
}
