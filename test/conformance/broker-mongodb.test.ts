import { after, describe } from 'node:test';
import { createMongoBroker } from '../../src/adapters/mongodb/index.ts';
import type { Broker } from '../../src/ports/index.ts';
import { brokerConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findMongoReplicaSet } from '../support/servers.ts';

const replicaSet = await findMongoReplicaSet();

if ('skip' in replicaSet) {
  describe('broker conformance: mongodb change streams', { skip: replicaSet.skip }, () => undefined);
} else {
  const opened: Broker[] = [];
  after(() => Promise.all(opened.map((broker) => broker.close())));
  brokerConformance({
    name: 'mongodb change streams',
    create: () => {
      const broker = createMongoBroker(
        { url: replicaSet.url, database: `conformance_${process.pid}` },
        silentRuntime(),
      );
      opened.push(broker);
      return broker;
    },
  });
}
