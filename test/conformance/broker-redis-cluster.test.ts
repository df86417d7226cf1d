import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createRedisBroker, type RedisBroker } from '../../src/adapters/redis/index.ts';
import { brokerConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findRedisCluster } from '../support/servers.ts';

const cluster = await findRedisCluster();

if ('skip' in cluster) {
  describe('broker conformance: redis streams on a cluster', { skip: cluster.skip }, () => undefined);
} else {
  const opened: RedisBroker[] = [];
  after(() => Promise.all(opened.map((broker) => broker.close())));
  const create = (): RedisBroker => {
    const broker = createRedisBroker(
      { cluster: { nodes: cluster.nodes }, streamPrefix: `conformance:${process.pid}:` },
      silentRuntime(),
    );
    opened.push(broker);
    return broker;
  };
  brokerConformance({ name: 'redis streams on a cluster', create });

  describe('redis streams on a cluster: slots', () => {
    it("names a topic's stream with the topic as hash tag, so its keys share the topic's slot", async () => {
      const broker = create();
      const topic = `slots-${process.pid}`;
      await broker.publish(topic, { value: { n: 1 } });
      const client = broker.client();
      const stream = `conformance:${process.pid}:{${topic}}`;
      assert.equal(await client.xLen(stream), 1);
      const slotOf = (key: string): Promise<number> => client.clusterKeySlot(key);
      assert.equal(await slotOf(stream), await slotOf(topic));
      assert.equal(await slotOf(`${stream}:companion`), await slotOf(topic));
      await client.unlink(stream);
    });
  });
}
