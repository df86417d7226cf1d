// The kafkajs adapter's suite, on Kafka 3.9 and on Kafka 4.4 (which kafkajs cannot speak to).
import { after, describe } from 'node:test';
import { createPlatformaticKafkaBroker } from '../../src/adapters/platformatic-kafka/index.ts';
import type { Broker } from '../../src/ports/index.ts';
import { brokerConformance } from '../../src/testing/broker-conformance.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findKafka, findKafka4 } from '../support/servers.ts';

const opened: Broker[] = [];
after(() => Promise.all(opened.map((broker) => broker.close())));

for (const [version, find] of [
  ['3.9', findKafka],
  ['4.4', findKafka4],
] as const) {
  const name = `platformatic-kafka on Kafka ${version}`;
  const kafka = await find();
  if ('skip' in kafka) {
    describe(`broker conformance: ${name}`, { skip: kafka.skip }, () => undefined);
    continue;
  }
  brokerConformance({
    name,
    // Group joins and rebalances take seconds on a real cluster.
    deliveryTimeoutMs: 60_000,
    create: () => {
      const broker = createPlatformaticKafkaBroker({ brokers: kafka.brokers }, silentRuntime());
      opened.push(broker);
      return broker;
    },
  });
}
