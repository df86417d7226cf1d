import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKafkaBroker, type KafkaBroker } from '../../src/adapters/kafka/index.ts';
import type { ReceivedMessage } from '../../src/ports/index.ts';
import { brokerHeaders } from '../../src/runtime/broker/headers.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findKafka } from '../support/servers.ts';
import { waitFor } from '../support/wait.ts';

const kafka = await findKafka();

describe('kafka subscription: close and dead letters', { skip: 'skip' in kafka ? kafka.skip : false }, () => {
  const opened: KafkaBroker[] = [];
  after(() => Promise.all(opened.map((broker) => broker.close())));
  const open = (): KafkaBroker => {
    assert.ok(!('skip' in kafka));
    const broker = createKafkaBroker({ brokers: kafka.brokers }, silentRuntime());
    opened.push(broker);
    return broker;
  };

  it('closes an idle subscription well within the fetch wait of kafkajs (5 s)', async () => {
    const broker = open();
    const topic = `close-${randomUUID()}`;
    const received: unknown[] = [];
    const subscription = broker.subscribe(topic, (m) => Promise.resolve(void received.push(m.value)), {
      group: 'close',
      fromBeginning: true,
    });
    await subscription.ready;
    await broker.publish(topic, { value: 'one' });
    await waitFor('the message', () => received.length === 1, 60_000, { everyMs: 50 });
    // Idle: the consumer now waits in a fetch for messages that do not come.
    await sleep(1_500);
    const started = performance.now();
    await subscription.close();
    const closeMs = Math.round(performance.now() - started);
    assert.ok(closeMs < 1_500, `close() took ${closeMs} ms`);
    // It committed and left the group: a new member reads on from there, without a session timeout.
    await broker.publish(topic, { value: 'two' });
    const again: unknown[] = [];
    const next = broker.subscribe(topic, (m) => Promise.resolve(void again.push(m.value)), {
      group: 'close',
      fromBeginning: true,
    });
    await waitFor('the next message', () => again.length === 1, 30_000, { everyMs: 50 });
    await sleep(500);
    assert.deepEqual([received, again], [['one'], ['two']]);
    await next.close();
  });

  it('dead-letters a message from another producer with its partition and offset', async () => {
    const broker = open();
    const topic = `foreign-${randomUUID()}`;
    const deadLetters: ReceivedMessage[] = [];
    const seenIds: string[] = [];
    const dlq = broker.subscribe(`${topic}.dead-letter`, (m) => Promise.resolve(void deadLetters.push(m)), {
      group: 'dlq',
      fromBeginning: true,
    });
    const subscription = broker.subscribe(
      topic,
      (m) => {
        seenIds.push(m.id);
        return Promise.reject(new Error('cannot handle it'));
      },
      { group: 'foreign', fromBeginning: true, maxAttempts: 1 },
    );
    await Promise.all([dlq.ready, subscription.ready]);
    // A producer that is not berth: no x-berth-id, no headers at all.
    const producer = broker.client().producer();
    await producer.connect();
    let partition: number;
    let offset: string;
    try {
      const [sent] = await producer.send({
        topic,
        messages: [{ key: 'k', value: JSON.stringify({ n: 1 }) }],
      });
      assert.ok(sent?.baseOffset !== undefined);
      partition = sent.partition;
      offset = sent.baseOffset;
    } finally {
      await producer.disconnect();
    }
    await waitFor('the dead letter', () => deadLetters.length === 1, 60_000, { everyMs: 50 });
    const dead = deadLetters[0]!;
    const position = `${partition}:${offset}`;
    assert.deepEqual(dead.value, { n: 1 });
    assert.equal(dead.headers[brokerHeaders.originalPosition], position);
    assert.equal(dead.headers[brokerHeaders.originalPartition], String(partition));
    assert.equal(dead.headers[brokerHeaders.originalOffset], offset);
    assert.equal(dead.headers[brokerHeaders.originalTopic], topic);
    // The id its handler saw travels with the dead letter.
    assert.deepEqual(seenIds, [`${topic}@${position}`]);
    assert.equal(dead.id, seenIds[0]);
    await Promise.all([dlq.close(), subscription.close()]);
  });
});
