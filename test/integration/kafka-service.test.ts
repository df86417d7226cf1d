import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Kafka, logLevel, Partitioners, type logCreator } from 'kafkajs';
import { findKafka } from '../support/servers.ts';

const kafka = await findKafka();

describe(
  'kafka (KAFKA_BROKERS, scripts/services.ts or a container) with kafkajs',
  { skip: 'skip' in kafka ? kafka.skip : false },
  () => {
    it('creates a topic, produces 10 messages, consumes them back in a consumer group', async (t) => {
      assert.ok(!('skip' in kafka));
      // kafkajs logs errors it retries (a fresh broker has no group coordinator for a moment):
      // kept, and shown only when the test fails.
      const logs: string[] = [];
      const keepLogs: logCreator =
        () =>
        ({ namespace, log: { message, timestamp: _timestamp, logger: _logger, ...extra } }) => {
          logs.push(`[${namespace}] ${message} ${JSON.stringify(extra)}`);
        };
      const client = new Kafka({
        clientId: 'berth-kafka-service-test',
        brokers: kafka.brokers,
        logLevel: logLevel.WARN,
        logCreator: keepLogs,
      });
      const run = randomUUID();
      const topic = `berth-service-test-${run}`;
      const admin = client.admin();
      const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      const consumer = client.consumer({ groupId: `berth-service-test-${run}` });
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        assert.ok(cluster.brokers.length > 0, 'describeCluster lists the broker');
        assert.equal(
          await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true }),
          true,
        );

        const sent = Array.from({ length: 10 }, (_, i) => `message-${i}`);
        await producer.connect();
        await producer.send({ topic, messages: sent.map((value, i) => ({ key: `key-${i}`, value })) });

        const received: string[] = [];
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`received ${received.length} of ${sent.length} messages within 60 s`)),
            60_000,
          );
          const done = (error?: unknown) => {
            clearTimeout(timer);
            if (error === undefined) resolve();
            else reject(error instanceof Error ? error : new Error('consumer failed', { cause: error }));
          };
          consumer.on(consumer.events.CRASH, (event) => {
            if (!event.payload.restart) done(event.payload.error);
          });
          consumer
            .run({
              eachMessage: ({ message }) => {
                received.push(message.value?.toString('utf8') ?? '');
                if (received.length === sent.length) done();
                return Promise.resolve();
              },
            })
            .catch(done);
        });
        assert.deepEqual(received.toSorted(), sent.toSorted());
        await consumer.disconnect();
        await admin.deleteTopics({ topics: [topic] });
      } catch (error) {
        t.diagnostic(`kafkajs logs:\n${logs.join('\n')}`);
        throw error;
      } finally {
        await consumer.disconnect();
        await producer.disconnect();
        await admin.disconnect();
      }
    });
  },
);
