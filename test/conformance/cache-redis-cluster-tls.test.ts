// The cache conformance on a Redis Cluster over TLS (between the nodes too) as an ACL user limited
// to berth's commands, `default` off: a cluster of the test's own (test/support/redis-cluster-tls.ts).
import fs from 'node:fs';
import { after, describe } from 'node:test';
import { createRedisCache } from '../../src/adapters/redis/index.ts';
import { Redacted, type Cache } from '../../src/ports/index.ts';
import { cacheConformance } from '../../src/testing/index.ts';
import { startTlsRedisCluster, type TlsRedisCluster } from '../support/redis-cluster-tls.ts';
import { redisServerBinary } from '../support/redis-cluster.ts';
import { privateKeyText, secretWatch } from '../support/secret-watch.ts';

const binary = await redisServerBinary();

if (binary.path === undefined) {
  describe(
    'cache conformance: redis cluster over TLS as an ACL user',
    { skip: binary.skip },
    () => undefined,
  );
} else {
  const cluster: TlsRedisCluster = await startTlsRedisCluster(binary.path);
  const opened: Cache[] = [];
  const watch = secretWatch();
  after(async () => {
    await Promise.all(opened.map((cache) => cache.close()));
    await watch.assertNoSecrets({
      'the password': cluster.password,
      'the admin password': cluster.adminPassword,
      ...privateKeyText(cluster.certificates.clientKeyFile),
    });
    await cluster.stop();
  });
  const ca = fs.readFileSync(cluster.certificates.caFile, 'utf8');
  cacheConformance({
    name: 'redis cluster over TLS as an ACL user',
    create: (keyPrefix) => {
      const cache = createRedisCache(
        {
          cluster: { nodes: cluster.nodes, tls: true, username: cluster.username },
          password: new Redacted(cluster.password),
          tls: { ca },
          keyPrefix,
        },
        watch.runtime,
      );
      opened.push(cache);
      return cache;
    },
    features: { shared: true },
  });
}
