// The composition root builds the broker BROKER_DRIVER and the document store
// DOCUMENT_STORE_DRIVER name, checks their health among the readiness probes and closes them:
// on memory, on real Kafka, Redis Streams and MongoDB's wire protocol (FerretDB).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  ConfigError,
  createInfrastructure,
  isInfraError,
  loadConfig,
  type ReceivedMessage,
} from '../../src/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findKafka, findMongo, findRedis } from '../support/servers.ts';

async function roundTrip(env: Record<string, string>): Promise<void> {
  const infra = await createInfrastructure(
    await loadConfig(env, { memoryDefaults: ['cache', 'broker', 'documents'] }),
    silentRuntime(),
  );
  try {
    await infra.start();
    const topic = `infra-${randomUUID().slice(0, 8)}`;
    const received: ReceivedMessage<{ n: number }>[] = [];
    let resolveAll: () => void = () => undefined;
    const all = new Promise<void>((resolve) => (resolveAll = resolve));
    const subscription = infra.broker.subscribe<{ n: number }>(
      topic,
      (message) => {
        received.push(message);
        if (received.length === 3) resolveAll();
        return Promise.resolve();
      },
      { group: 'infra-test', fromBeginning: true },
    );
    await subscription.ready;
    // One key: one partition or stream, so one order.
    await infra.broker.publish(
      topic,
      [1, 2, 3].map((n) => ({ key: 'k', value: { n } })),
    );
    await all;
    assert.deepEqual(
      received.map((message) => message.value.n),
      [1, 2, 3],
    );

    const readiness = await infra.health.readiness();
    assert.equal(readiness.status, 'up');
    assert.equal(readiness.checks[infra.broker.id]?.status, 'up', 'the broker is among the readiness checks');
  } finally {
    await infra.close();
  }
  // Closed with the rest: a publish after close() is refused, not sent.
  await assert.rejects(
    infra.broker.publish('after-close', { value: 1 }),
    (error) => isInfraError(error) && error.reason === 'closed',
  );
}

describe('createInfrastructure: the broker', () => {
  it('builds the memory broker by default', async () => {
    await roundTrip({});
  });

  it('refuses a broker it cannot build before creating anything', async () => {
    await assert.rejects(
      loadConfig({ BROKER_DRIVER: 'kafka', KAFKA_BROKERS: 'not a broker' }),
      (error) => error instanceof ConfigError && error.issues.some((issue) => issue.path === 'KAFKA_BROKERS'),
    );
  });
});

const kafka = await findKafka();
describe('createInfrastructure: BROKER_DRIVER=kafka', { skip: 'skip' in kafka ? kafka.skip : false }, () => {
  it('builds a Kafka broker from KAFKA_BROKERS, checked for readiness and closed', async () => {
    if ('skip' in kafka) return;
    await roundTrip({
      BROKER_DRIVER: 'kafka',
      KAFKA_BROKERS: kafka.brokers.join(','),
      KAFKA_CLIENT_ID: 'infra',
    });
  });
});

const redis = await findRedis();
describe('createInfrastructure: BROKER_DRIVER=redis', { skip: 'skip' in redis ? redis.skip : false }, () => {
  it('builds a Redis Streams broker from REDIS_URL, checked for readiness and closed', async () => {
    if ('skip' in redis) return;
    await roundTrip({
      BROKER_DRIVER: 'redis',
      REDIS_URL: redis.url,
      REDIS_STREAM_PREFIX: `infra-${randomUUID().slice(0, 8)}:`,
    });
  });
});

async function documentRoundTrip(env: Record<string, string>): Promise<void> {
  const infra = await createInfrastructure(
    await loadConfig(env, { memoryDefaults: ['cache', 'broker', 'documents'] }),
    silentRuntime(),
  );
  try {
    await infra.start();
    const orders = infra.documents.collection<{ total: number }>(`orders_${randomUUID().slice(0, 8)}`);
    const stored = await orders.insert({ total: 42 });
    assert.equal((await orders.get(stored._id))?.total, 42);
    const readiness = await infra.health.readiness();
    assert.equal(
      readiness.checks[infra.documents.id]?.status,
      'up',
      'the store is among the readiness checks',
    );
  } finally {
    await infra.close();
  }
  await assert.rejects(
    infra.documents.collection('after_close').get('x'),
    (error) => isInfraError(error) && error.reason === 'closed',
  );
}

describe('createInfrastructure: the document store', () => {
  it('builds the memory document store by default', async () => {
    await documentRoundTrip({});
  });
});

const mongo = await findMongo();
describe(
  'createInfrastructure: DOCUMENT_STORE_DRIVER=mongodb',
  { skip: 'skip' in mongo ? mongo.skip : false },
  () => {
    it('builds a MongoDB document store from MONGODB_URL, checked for readiness and closed', async () => {
      if ('skip' in mongo) return;
      await documentRoundTrip({
        DOCUMENT_STORE_DRIVER: 'mongodb',
        MONGODB_URL: mongo.url,
        MONGODB_DATABASE: 'berth_infra',
      });
    });
  },
);
