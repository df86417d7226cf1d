import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { createRedisCache } from '../../src/adapters/redis/index.ts';
import type { Cache } from '../../src/ports/index.ts';
import { cacheConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findRedisCluster } from '../support/servers.ts';

const cluster = await findRedisCluster();

if ('skip' in cluster) {
  describe('cache conformance: redis cluster', { skip: cluster.skip }, () => undefined);
} else {
  const opened: Cache[] = [];
  after(() => Promise.all(opened.map((cache) => cache.close())));
  const create = (keyPrefix: string) => {
    const cache = createRedisCache({ cluster: { nodes: cluster.nodes }, keyPrefix }, silentRuntime());
    opened.push(cache);
    return cache;
  };
  cacheConformance({ name: 'redis cluster', create, features: { shared: true } });

  describe('redis cluster cache: keys on every master', () => {
    it('lists, reads and clears keys held by all three masters', async () => {
      const cache = create(`cluster-keys:${randomUUID()}:`);
      const keys = Array.from({ length: 300 }, (_, i) => `key-${i}`);
      await cache.setMany(keys.map((key) => ({ key, value: key })));
      // The keys spread over every master: each holds some of them.
      const client = cache.client();
      assert.ok('masters' in client, 'a cluster client');
      const perMaster = await Promise.all(
        client.masters.map(async (master) => (await client.nodeClient(master)).dbSize()),
      );
      assert.equal(perMaster.length, 3);
      assert.ok(
        perMaster.every((size) => size > 0),
        `keys per master: ${perMaster.join(', ')}`,
      );
      const listed: string[] = [];
      for await (const key of cache.keys()) listed.push(key);
      assert.deepEqual(listed.sort(), [...keys].sort());
      assert.deepEqual(await cache.getMany(['key-1', 'key-299', 'absent']), ['key-1', 'key-299', undefined]);
      await cache.clear();
      assert.deepEqual(
        await cache.getMany(keys.slice(0, 50)),
        Array.from({ length: 50 }, () => undefined),
      );
    });
  });
}
