import { after, describe } from 'node:test';
import { createKafkaBroker } from '../../src/adapters/kafka/index.ts';
import type { Broker } from '../../src/ports/index.ts';
import { brokerConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findKafka } from '../support/servers.ts';

const kafka = await findKafka();

if ('skip' in kafka) {
  describe('broker conformance: kafka', { skip: kafka.skip }, () => undefined);
} else {
  const opened: Broker[] = [];
  after(() => Promise.all(opened.map((broker) => broker.close())));
  brokerConformance({
    name: 'kafka',
    // Group joins and rebalances take seconds on a real cluster.
    deliveryTimeoutMs: 60_000,
    create: () => {
      const broker = createKafkaBroker({ brokers: kafka.brokers }, silentRuntime());
      opened.push(broker);
      return broker;
    },
  });
}
