// The broker conformance on Redis Streams over a Redis Cluster over TLS (between the nodes too) as
// an ACL user limited to berth's commands, `default` off: a cluster of the test's own
// (test/support/redis-cluster-tls.ts).
import fs from 'node:fs';
import { after, describe } from 'node:test';
import { createRedisBroker } from '../../src/adapters/redis/index.ts';
import { Redacted, type Broker } from '../../src/ports/index.ts';
import { brokerConformance } from '../../src/testing/index.ts';
import { startTlsRedisCluster } from '../support/redis-cluster-tls.ts';
import { redisServerBinary } from '../support/redis-cluster.ts';
import { privateKeyText, secretWatch } from '../support/secret-watch.ts';

const binary = await redisServerBinary();

if (binary.path === undefined) {
  describe(
    'broker conformance: redis streams on a cluster over TLS as an ACL user',
    { skip: binary.skip },
    () => undefined,
  );
} else {
  const cluster = await startTlsRedisCluster(binary.path);
  const opened: Broker[] = [];
  const watch = secretWatch();
  after(async () => {
    await Promise.all(opened.map((broker) => broker.close()));
    await watch.assertNoSecrets({
      'the password': cluster.password,
      'the admin password': cluster.adminPassword,
      ...privateKeyText(cluster.certificates.clientKeyFile),
    });
    await cluster.stop();
  });
  const ca = fs.readFileSync(cluster.certificates.caFile, 'utf8');
  brokerConformance({
    name: 'redis streams on a cluster over TLS as an ACL user',
    create: () => {
      const broker = createRedisBroker(
        {
          cluster: { nodes: cluster.nodes, tls: true, username: cluster.username },
          password: new Redacted(cluster.password),
          tls: { ca },
          streamPrefix: `conformance:${process.pid}:`,
        },
        watch.runtime,
      );
      opened.push(broker);
      return broker;
    },
  });
}
