import { describe } from 'node:test';
import { createKafkaBroker } from '../../src/adapters/kafka/index.ts';
import { createPostgresDatabase } from '../../src/adapters/postgres/index.ts';
import { outboxConformance } from '../../src/testing/index.ts';
import { findKafka, findPostgres } from '../support/servers.ts';

const [postgres, kafka] = await Promise.all([findPostgres(), findKafka()]);

if ('skip' in postgres || 'skip' in kafka) {
  const skip = 'skip' in postgres ? postgres.skip : 'skip' in kafka ? kafka.skip : '';
  describe('outbox conformance: postgres and kafka', { skip }, () => undefined);
} else {
  outboxConformance({
    name: 'postgres and kafka',
    sql: async (runtime) => {
      const database = createPostgresDatabase({ url: postgres.url, poolSize: 5 }, runtime);
      await database.start();
      return database;
    },
    broker: (runtime, options) =>
      createKafkaBroker(
        { brokers: kafka.brokers, ...(options.maxMessageBytes === undefined ? {} : options) },
        runtime,
      ),
  });
}
