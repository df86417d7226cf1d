// The broker conformance on Redis Streams over TLS as an ACL user limited to berth's commands.
import fs from 'node:fs';
import { after, describe } from 'node:test';
import { createRedisBroker } from '../../src/adapters/redis/index.ts';
import type { Broker } from '../../src/ports/index.ts';
import { brokerConformance } from '../../src/testing/index.ts';
import { secretWatch, serverSecrets } from '../support/secret-watch.ts';
import { findRedisSecure } from '../support/secure-servers.ts';

const redis = await findRedisSecure();

if ('skip' in redis) {
  describe(
    'broker conformance: redis streams over TLS as an ACL user',
    { skip: redis.skip },
    () => undefined,
  );
} else {
  const opened: Broker[] = [];
  const watch = secretWatch();
  after(() => Promise.all(opened.map((broker) => broker.close())));
  after(() => watch.assertNoSecrets(serverSecrets(redis)));
  const ca = fs.readFileSync(redis.caFile, 'utf8');
  brokerConformance({
    name: 'redis streams over TLS as an ACL user',
    create: () => {
      const broker = createRedisBroker(
        { url: redis.url, streamPrefix: `conformance:${process.pid}:`, tls: { ca } },
        watch.runtime,
      );
      opened.push(broker);
      return broker;
    },
  });
}
