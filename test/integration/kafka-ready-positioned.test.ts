// Issue #24, on both Kafka drivers: a Kafka subscription's `ready` means every assigned partition has a position, so a
// message published right after it is consumed even with `fromBeginning: false` on a new group.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import { createKafkaBroker } from '../../src/adapters/kafka/index.ts';
import { createPlatformaticKafkaBroker } from '../../src/adapters/platformatic-kafka/index.ts';
import type { Broker } from '../../src/ports/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findKafka } from '../support/servers.ts';

const kafka = await findKafka();

const runs = 50;
const drivers = { kafkajs: createKafkaBroker, 'platformatic-kafka': createPlatformaticKafkaBroker };
// Keys that land on each of the topic's three partitions (murmur2), so every partition is checked.
const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'];

for (const [driver, create] of Object.entries(drivers))
  describe(`${driver}: kafka subscription ready`, { skip: 'skip' in kafka ? kafka.skip : false }, () => {
    let broker: Broker | undefined;
    before(() => {
      assert.ok(!('skip' in kafka));
      broker = create({ brokers: kafka.brokers }, silentRuntime());
    });
    after(() => broker?.close());

    it(`a message published right after ready is consumed: fromBeginning false, a new group, ${runs} runs`, async () => {
      assert.ok(broker !== undefined);
      const topic = `ready-positioned-${driver}-${randomUUID()}`;
      // The topic exists and the producer is connected, so a publish after ready lands within milliseconds.
      await broker.publish(topic, { key: 'warm', value: 'before any group' });

      const skipped: string[] = [];
      for (let run = 0; run < runs; run++) {
        const received = new Set<string>();
        const subscription = broker.subscribe<string>(
          topic,
          (message) => {
            received.add(message.id);
            return Promise.resolve();
          },
          { group: `ready-${run}-${randomUUID()}`, fromBeginning: false },
        );
        try {
          await subscription.ready;
          const messages = keys.map((key) => ({ id: `run-${run}-${key}`, key, value: key }));
          const ids = messages.map((message) => message.id);
          await broker.publish(topic, messages);
          const started = Date.now();
          while (received.size < ids.length && Date.now() - started < 5_000) await sleep(20);
          for (const id of ids) if (!received.has(id)) skipped.push(id);
        } finally {
          await subscription.close();
        }
      }
      // Each of the three partitions received some of them, the one 'warm' went to included.
      assert.ok(!('skip' in kafka));
      const admin = new kafkajs.Kafka({ brokers: kafka.brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
      await admin.connect();
      const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
      assert.deepEqual(
        ends
          .filter(({ high }) => BigInt(high) >= BigInt(runs))
          .map(({ partition }) => partition)
          .sort(),
        [0, 1, 2],
        'every partition was checked in every run',
      );
      assert.deepEqual(skipped, [], `${skipped.length} of ${runs * keys.length} messages were skipped`);
    });

    it('the position is kept: a member started after the first closed unused gets what was published between', async () => {
      assert.ok(broker !== undefined);
      const topic = `ready-kept-${driver}-${randomUUID()}`;
      await broker.publish(topic, { key: 'warm', value: 'before any group' });
      const group = `kept-${randomUUID()}`;
      const first = broker.subscribe(topic, () => Promise.resolve(), { group, fromBeginning: false });
      await first.ready;
      // A process that stopped (or crashed) after ready, before any message came.
      await first.close();
      const messages = keys.map((key) => ({ id: `between-${key}`, key, value: key }));
      await broker.publish(topic, messages);
      const received = new Set<string>();
      const second = broker.subscribe(topic, (m) => Promise.resolve(void received.add(m.id)), {
        group,
        fromBeginning: false,
      });
      try {
        await second.ready;
        const started = Date.now();
        while (received.size < messages.length && Date.now() - started < 10_000) await sleep(20);
      } finally {
        await second.close();
      }
      assert.deepEqual([...received].sort(), messages.map((m) => m.id).sort());
    });
  });
