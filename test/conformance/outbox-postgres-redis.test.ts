import { describe } from 'node:test';
import { createPostgresDatabase } from '../../src/adapters/postgres/index.ts';
import { createRedisBroker } from '../../src/adapters/redis/index.ts';
import { outboxConformance } from '../../src/testing/index.ts';
import { findPostgres, findRedis } from '../support/servers.ts';

const [postgres, redis] = await Promise.all([findPostgres(), findRedis()]);

if ('skip' in postgres || 'skip' in redis) {
  const skip = 'skip' in postgres ? postgres.skip : 'skip' in redis ? redis.skip : '';
  describe('outbox conformance: postgres and redis streams', { skip }, () => undefined);
} else {
  outboxConformance({
    name: 'postgres and redis streams',
    sql: async (runtime) => {
      const database = createPostgresDatabase({ url: postgres.url, poolSize: 5 }, runtime);
      await database.start();
      return database;
    },
    broker: (runtime, options) => createRedisBroker({ url: redis.url, ...options }, runtime),
  });
}
