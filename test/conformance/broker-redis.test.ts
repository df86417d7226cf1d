import { after, describe } from 'node:test';
import { createRedisBroker } from '../../src/adapters/redis/index.ts';
import type { Broker } from '../../src/ports/index.ts';
import { brokerConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findRedis } from '../support/servers.ts';

const redis = await findRedis();

if ('skip' in redis) {
  describe('broker conformance: redis streams', { skip: redis.skip }, () => undefined);
} else {
  const opened: Broker[] = [];
  after(() => Promise.all(opened.map((broker) => broker.close())));
  brokerConformance({
    name: 'redis streams',
    create: () => {
      const broker = createRedisBroker(
        { url: redis.url, streamPrefix: `conformance:${process.pid}:` },
        silentRuntime(),
      );
      opened.push(broker);
      return broker;
    },
  });
}
