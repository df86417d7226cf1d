// Issue #24: the two Kafka drivers share topics. What one publishes the other reads with keys,
// headers, ids and per-key order intact, both ways; and a key lands on the same partition
// whichever driver published it (both partition as the Java client does).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createKafkaBroker, type KafkaBroker } from '../../src/adapters/kafka/index.ts';
import { createPlatformaticKafkaBroker } from '../../src/adapters/platformatic-kafka/index.ts';
import type { Broker, ReceivedMessage } from '../../src/ports/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findKafka } from '../support/servers.ts';
import { waitFor } from '../support/wait.ts';

const kafka = await findKafka();
const skip = 'skip' in kafka ? kafka.skip : false;
const brokers = 'skip' in kafka ? [] : kafka.brokers;
const run = randomUUID().slice(0, 8);
const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
const count = 600;

/** Publishes `count` keyed messages through `from` and reads them through `to`. */
async function crossOver(from: Broker, to: Broker, topic: string): Promise<void> {
  const received: ReceivedMessage<{ n: number }>[] = [];
  const subscription = to.subscribe<{ n: number }>(topic, (m) => Promise.resolve(void received.push(m)), {
    group: `cross-${run}`,
    fromBeginning: true,
    concurrency: 4,
    readyTimeoutMs: 60_000,
  });
  try {
    await subscription.ready;
    const sent = Array.from({ length: count }, (_, n) => ({
      key: keys[n % keys.length]!,
      value: { n },
      id: `${topic}-${n}`,
      headers: { 'x-case': 'cross', 'x-n': String(n) },
    }));
    for (let i = 0; i < sent.length; i += 50) await from.publish(topic, sent.slice(i, i + 50));
    await waitFor(`${count} messages`, () => new Set(received.map((m) => m.id)).size >= count, 60_000, {
      everyMs: 20,
    });
    const byKey = new Map<string, number[]>();
    for (const message of received) {
      const n = message.value.n;
      assert.equal(message.id, `${topic}-${n}`, 'the id travels');
      assert.equal(message.key, keys[n % keys.length], 'the key travels');
      assert.equal(message.headers['x-case'], 'cross');
      assert.equal(message.headers['x-n'], String(n), 'headers travel');
      byKey.set(message.key!, [...(byKey.get(message.key!) ?? []), n]);
    }
    for (const [key, numbers] of byKey) {
      const unique = [...new Set(numbers)];
      assert.deepEqual(
        unique,
        [...unique].sort((a, b) => a - b),
        `${key} in order`,
      );
      assert.equal(unique.length, count / keys.length, `${key} complete`);
    }
  } finally {
    await subscription.close();
  }
}

/** Each key's partition in `topic`, read by a raw kafkajs consumer from the start. */
async function partitionsOfKeys(
  client: KafkaBroker,
  topic: string,
  expected: number,
): Promise<Map<string, number>> {
  const consumer = client.client().consumer({ groupId: `raw-${run}-${topic}` });
  const seen = new Map<string, number>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message, partition }) => {
        seen.set(message.key!.toString(), partition);
        return Promise.resolve();
      },
    });
    await waitFor(`${expected} keys of ${topic}`, () => seen.size >= expected, 60_000, { everyMs: 20 });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

describe('kafka drivers interoperate: kafkajs and @platformatic/kafka', { skip }, () => {
  let kafkajsBroker: KafkaBroker;
  let platformaticBroker: Broker;
  before(() => {
    kafkajsBroker = createKafkaBroker({ brokers }, silentRuntime());
    platformaticBroker = createPlatformaticKafkaBroker({ brokers }, silentRuntime());
  });
  after(() => Promise.all([kafkajsBroker.close(), platformaticBroker.close()]));

  it('kafkajs publishes, @platformatic/kafka reads: keys, headers, ids, per-key order', () =>
    crossOver(kafkajsBroker, platformaticBroker, `cross-${run}-to-platformatic`));

  it('@platformatic/kafka publishes, kafkajs reads: keys, headers, ids, per-key order', () =>
    crossOver(platformaticBroker, kafkajsBroker, `cross-${run}-to-kafkajs`));

  it('puts each key on the partition the other driver puts it on', async () => {
    const many = Array.from({ length: 200 }, (_, i) => ({ key: `placed-${i}`, value: i }));
    const viaKafkajs = `cross-${run}-placed-kafkajs`;
    const viaPlatformatic = `cross-${run}-placed-platformatic`;
    await kafkajsBroker.publish(viaKafkajs, many);
    await platformaticBroker.publish(viaPlatformatic, many);
    const [a, b] = await Promise.all([
      partitionsOfKeys(kafkajsBroker, viaKafkajs, many.length),
      partitionsOfKeys(kafkajsBroker, viaPlatformatic, many.length),
    ]);
    assert.equal(new Set(a.values()).size, 3, 'keys spread over the 3 partitions');
    assert.deepEqual(new Map([...b].sort()), new Map([...a].sort()));
  });
});
