// One request, one trace: HTTP → Redis cache → publish on Kafka or Redis Streams → consumer →
// document write, with the OpenTelemetry SDK's in-memory exporter.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { Registry } from 'prom-client';
import { createKafkaBroker } from '../../src/adapters/kafka/index.ts';
import { createMemoryDocumentStore } from '../../src/adapters/memory/index.ts';
import { createRedisBroker, createRedisCache } from '../../src/adapters/redis/index.ts';
import type { Broker } from '../../src/ports/index.ts';
import { createLogger, createRuntime, type Runtime } from '../../src/runtime/index.ts';
import { findKafka, findRedis } from '../support/servers.ts';
import {
  assertChildOf,
  endedSpan,
  inMemoryTracing,
  startTracedApp,
  tracedGet,
} from '../support/traced-app.ts';

const kafka = await findKafka();
const redis = await findRedis();
const redisUrl = 'skip' in redis ? '' : redis.url;

interface Path {
  name: string;
  skip: string | false;
  system: string;
  /** host:port the broker's spans name. */
  server: () => string;
  broker: (runtime: Runtime) => Broker;
}

const paths: Path[] = [
  {
    name: 'Kafka',
    skip: 'skip' in kafka ? kafka.skip : 'skip' in redis ? redis.skip : false,
    system: 'kafka',
    server: () => ('skip' in kafka ? '' : kafka.brokers[0]!),
    broker: (runtime) =>
      createKafkaBroker(
        { brokers: 'skip' in kafka ? [] : kafka.brokers, clientId: 'berth-tracing-test' },
        runtime,
      ),
  },
  {
    name: 'Redis Streams',
    skip: 'skip' in redis ? redis.skip : false,
    system: 'redis',
    server: () => new URL(redisUrl).host,
    broker: (runtime) => createRedisBroker({ url: redisUrl }, runtime),
  },
];

for (const path of paths) {
  describe(`a traced request across ${path.name}`, { skip: path.skip, timeout: 180_000 }, () => {
    let tracing: ReturnType<typeof inMemoryTracing>;
    before(() => (tracing = inMemoryTracing()));
    after(() => tracing.shutdown());

    it('is one trace from the HTTP request to the document the consumer writes', async () => {
      const runtime = createRuntime({ logger: createLogger({ level: 'silent' }), registry: new Registry() });
      const cache = createRedisCache({ url: redisUrl, keyPrefix: `trace-${randomUUID()}:` }, runtime);
      const broker = path.broker(runtime);
      const documents = createMemoryDocumentStore({}, runtime);
      const topic = `traced-${randomUUID().slice(0, 8)}`;
      const app = await startTracedApp({ cache, broker, documents }, topic);
      try {
        const { status } = await tracedGet(`${app.base}/greet/ada`);
        assert.equal(status, 200);
        await app.written(1, 60_000);
        const { exporter } = tracing;
        const client = await endedSpan(exporter, 'GET client', 5_000);
        const server = await endedSpan(exporter, 'GET /greet/:name', 5_000);
        const sameTrace = (span: { spanContext(): { traceId: string } }) =>
          span.spanContext().traceId === server.spanContext().traceId;
        const get = await endedSpan(exporter, 'get 0', 5_000, sameTrace);
        const create = await endedSpan(exporter, `create ${topic}`, 5_000);
        const send = await endedSpan(exporter, `publish ${topic}`, 5_000);
        const receive = await endedSpan(exporter, `receive ${topic}`, 30_000);
        const process = await endedSpan(exporter, `process ${topic}`, 30_000);
        const insert = await endedSpan(exporter, 'insert greetings', 30_000);

        assertChildOf(server, client);
        assertChildOf(get, server);
        assertChildOf(create, server);
        assertChildOf(process, create);
        assertChildOf(insert, process);
        const linksCreate = (links: { context: { spanId: string } }[]) =>
          links.some((link) => link.context.spanId === create.spanContext().spanId);
        assert.ok(linksCreate(send.links), 'the send span links the message it sent');
        assert.ok(linksCreate(receive.links), 'the batch span links the message it received');

        const redisServer = new URL(redisUrl);
        assert.equal(get.kind, SpanKind.CLIENT);
        assert.equal(get.attributes['db.system.name'], 'redis');
        assert.equal(get.attributes['db.operation.name'], 'get');
        assert.equal(get.attributes['db.namespace'], '0');
        assert.equal(get.attributes['server.port'], Number(redisServer.port || 6379));
        const [host, port] = path.server().split(':');
        for (const span of [create, send, receive, process]) {
          assert.equal(span.attributes['messaging.system'], path.system, span.name);
          assert.equal(span.attributes['server.address'], host, span.name);
          assert.equal(span.attributes['server.port'], Number(port), span.name);
        }
        assert.equal(create.kind, SpanKind.PRODUCER);
        assert.equal(send.attributes['messaging.operation.type'], 'send');
        assert.equal(send.attributes['messaging.destination.name'], topic);
        assert.equal(process.kind, SpanKind.CONSUMER);
        assert.equal(process.attributes['messaging.operation.type'], 'process');
        assert.equal(process.attributes['messaging.consumer.group.name'], `${topic}-writer`);
        assert.equal(process.attributes['messaging.message.id'], create.attributes['messaging.message.id']);
        assert.equal(insert.attributes['db.collection.name'], 'greetings');
      } finally {
        await app.close();
        await Promise.all([broker.close(), cache.close(), documents.close()]);
      }
    });
  });
}
