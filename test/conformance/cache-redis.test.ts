import { after, describe } from 'node:test';
import { createRedisCache } from '../../src/adapters/redis/index.ts';
import type { Cache } from '../../src/ports/index.ts';
import { cacheConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findRedis } from '../support/servers.ts';

const redis = await findRedis();

if ('skip' in redis) {
  describe('cache conformance: redis', { skip: redis.skip }, () => undefined);
} else {
  const opened: Cache[] = [];
  after(() => Promise.all(opened.map((cache) => cache.close())));
  cacheConformance({
    name: 'redis',
    create: () => {
      const cache = createRedisCache({ url: redis.url }, silentRuntime());
      opened.push(cache);
      return cache;
    },
    features: { shared: true },
  });
}
