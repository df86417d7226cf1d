import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { createRedisCache } from '../../src/adapters/redis/index.ts';
import type { Cache } from '../../src/ports/index.ts';
import { cacheConformance } from '../../src/testing/index.ts';
import { rejectsWith } from '../../src/testing/infra-assertions.ts';
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
    create: (namespace) => {
      const cache = createRedisCache({ url: redis.url, keyPrefix: namespace }, silentRuntime());
      opened.push(cache);
      return cache;
    },
    features: { shared: true },
  });

  describe('redis cache: clear() and keys()', () => {
    it('refuses clear() without a keyPrefix, which would empty the whole database', async () => {
      const cache = createRedisCache({ url: redis.url }, silentRuntime());
      const key = `unprefixed:${randomUUID()}`;
      try {
        await cache.set(key, 'kept', { ttlMs: 60_000 });
        const error = await rejectsWith(cache.clear(), 'config');
        assert.match(error.message, /keyPrefix/);
        assert.equal(await cache.get(key), 'kept');
      } finally {
        await cache.delete(key);
        await cache.close();
      }
    });

    it('neither lists nor clears keys under its prefix that are not cache entries', async () => {
      const keyPrefix = `cache-types:${randomUUID()}:`;
      const cache = createRedisCache({ url: redis.url, keyPrefix }, silentRuntime());
      const client = cache.client();
      try {
        await cache.set('entry', 1);
        await client.xAdd(`${keyPrefix}stream`, '*', { field: 'value' });
        const listed: string[] = [];
        for await (const key of cache.keys()) listed.push(key);
        assert.deepEqual(listed, ['entry']);
        await cache.clear();
        assert.equal(await cache.has('entry'), false);
        assert.equal(await client.exists(`${keyPrefix}stream`), 1);
      } finally {
        await client.unlink(`${keyPrefix}stream`);
        await cache.close();
      }
    });
  });
}
