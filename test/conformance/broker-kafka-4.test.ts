// The kafkajs adapter's conformance on Kafka 4.4, whose brokers dropped the protocol versions
// older than Kafka 2.1 (KIP-896): kafkajs 2.2.4's newest version of every API it sends is newer.
import { after, describe } from 'node:test';
import { createKafkaBroker } from '../../src/adapters/kafka/index.ts';
import type { Broker } from '../../src/ports/index.ts';
import { brokerConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findKafka4 } from '../support/servers.ts';

const kafka = await findKafka4();

if ('skip' in kafka) {
  describe('broker conformance: kafka on Kafka 4', { skip: kafka.skip }, () => undefined);
} else {
  const opened: Broker[] = [];
  after(() => Promise.all(opened.map((broker) => broker.close())));
  brokerConformance({
    name: 'kafka on Kafka 4',
    // Group joins and rebalances take seconds on a real cluster.
    deliveryTimeoutMs: 60_000,
    create: () => {
      const broker = createKafkaBroker({ brokers: kafka.brokers }, silentRuntime());
      opened.push(broker);
      return broker;
    },
  });
}
