import { createMemoryBroker } from '../../src/adapters/memory/index.ts';
import { createEmbeddedDatabase } from '../../src/adapters/postgres/embedded.ts';
import { outboxConformance } from '../../src/testing/index.ts';

outboxConformance({
  name: 'embedded database and memory broker',
  sql: async (runtime) => {
    const database = createEmbeddedDatabase({}, runtime);
    await database.start();
    return database;
  },
  broker: (runtime, options) => createMemoryBroker(options, runtime),
});
