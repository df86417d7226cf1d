// The cache conformance over TLS as an ACL user that may run only the commands berth needs, with
// the `default` user disabled: what a production Redis looks like.
import fs from 'node:fs';
import { after, describe } from 'node:test';
import { createRedisCache } from '../../src/adapters/redis/index.ts';
import type { Cache } from '../../src/ports/index.ts';
import { cacheConformance } from '../../src/testing/index.ts';
import { secretWatch, serverSecrets } from '../support/secret-watch.ts';
import { findRedisSecure } from '../support/secure-servers.ts';

const redis = await findRedisSecure();

if ('skip' in redis) {
  describe('cache conformance: redis over TLS as an ACL user', { skip: redis.skip }, () => undefined);
} else {
  const opened: Cache[] = [];
  const watch = secretWatch();
  after(() => Promise.all(opened.map((cache) => cache.close())));
  after(() => watch.assertNoSecrets(serverSecrets(redis)));
  const ca = fs.readFileSync(redis.caFile, 'utf8');
  cacheConformance({
    name: 'redis over TLS as an ACL user',
    create: (namespace) => {
      const cache = createRedisCache({ url: redis.url, keyPrefix: namespace, tls: { ca } }, watch.runtime);
      opened.push(cache);
      return cache;
    },
    features: { shared: true },
  });
}
