// berth and @opentelemetry/instrumentation-kafkajs read each other's trace context: a message a
// plain instrumented kafkajs producer sent is handled by berth in the producer's trace, and a
// message berth published is processed by an instrumented kafkajs consumer in berth's trace.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SpanKind, trace } from '@opentelemetry/api';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { createKafkaBroker } from '../../src/adapters/kafka/index.ts';
import type { ReceivedMessage } from '../../src/ports/index.ts';
import { createLogger, createRuntime } from '../../src/runtime/index.ts';
import { findKafka } from '../support/servers.ts';
import { assertChildOf, endedSpan, inMemoryTracing } from '../support/traced-app.ts';

const kafka = await findKafka();

describe(
  'trace context between berth and instrumentation-kafkajs',
  {
    skip: 'skip' in kafka ? kafka.skip : false,
    timeout: 180_000,
  },
  () => {
    let tracing: ReturnType<typeof inMemoryTracing>;
    let producer: Producer;
    let consumer: Consumer;
    const runtime = createRuntime({ logger: createLogger({ level: 'silent' }), registry: new Registry() });
    const broker =
      'skip' in kafka
        ? undefined
        : createKafkaBroker({ brokers: kafka.brokers, clientId: 'berth-interop' }, runtime);

    before(() => {
      assert.ok(!('skip' in kafka));
      tracing = inMemoryTracing();
      // The instrumentation patches kafkajs as `require` loads it; the clients made while it is on
      // keep their patches. It is switched off before berth makes its own, which stay plain.
      const instrumentation = new KafkaJsInstrumentation();
      instrumentation.enable();
      const kafkajs = createRequire(import.meta.url)('kafkajs') as typeof import('kafkajs');
      const plain: Kafka = new kafkajs.Kafka({
        clientId: 'plain-instrumented',
        brokers: kafka.brokers,
        logLevel: kafkajs.logLevel.NOTHING,
      });
      producer = plain.producer();
      consumer = plain.consumer({ groupId: `plain-${randomUUID().slice(0, 8)}` });
      instrumentation.disable();
    });

    after(async () => {
      await Promise.allSettled([producer.disconnect(), consumer.disconnect(), broker?.close()]);
      await tracing.shutdown();
    });

    it("berth handles a message of an instrumented kafkajs producer inside the producer's trace", async () => {
      const topic = `interop-in-${randomUUID().slice(0, 8)}`;
      const received: ReceivedMessage<{ n: number }>[] = [];
      const subscription = broker!.subscribe<{ n: number }>(
        topic,
        (message) => {
          received.push(message);
          return Promise.resolve();
        },
        {
          group: 'berth-reader',
          fromBeginning: true,
        },
      );
      await subscription.ready;
      await producer.connect();
      await trace.getTracer('test').startActiveSpan('plain request', async (span) => {
        await producer.send({ topic, messages: [{ key: 'k', value: JSON.stringify({ n: 7 }) }] });
        span.end();
      });
      const started = performance.now();
      while (received.length === 0) {
        assert.ok(performance.now() - started < 60_000, 'berth did not receive the message');
        await sleep(20);
      }
      assert.deepEqual(received[0]!.value, { n: 7 });
      const request = await endedSpan(tracing.exporter, 'plain request', 5_000);
      const send = await endedSpan(tracing.exporter, `send ${topic}`, 5_000);
      const process = await endedSpan(
        tracing.exporter,
        `process ${topic}`,
        10_000,
        (span) => span.instrumentationScope.name === 'berth',
      );
      assert.equal(send.kind, SpanKind.PRODUCER);
      assert.ok(send.instrumentationScope.name.includes('kafkajs'));
      assertChildOf(send, request);
      assertChildOf(process, send);
      assert.equal(process.attributes['messaging.system'], 'kafka');
      await subscription.close();
    });

    it("an instrumented kafkajs consumer processes a message berth published inside berth's trace", async () => {
      const topic = `interop-out-${randomUUID().slice(0, 8)}`;
      await trace.getTracer('test').startActiveSpan('berth request', async (span) => {
        await broker!.publish(topic, { key: 'k', value: { n: 8 } });
        span.end();
      });
      const seen: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: ({ message }) => {
          seen.push(message.value?.toString() ?? '');
          return Promise.resolve();
        },
      });
      const started = performance.now();
      while (seen.length === 0) {
        assert.ok(performance.now() - started < 60_000, 'the kafkajs consumer did not receive the message');
        await sleep(20);
      }
      assert.deepEqual(JSON.parse(seen[0]!), { n: 8 });
      const request = await endedSpan(tracing.exporter, 'berth request', 5_000);
      const create = await endedSpan(tracing.exporter, `create ${topic}`, 5_000);
      // The instrumentation's span for one message: `process <topic>`, a CONSUMER span.
      const process = await endedSpan(tracing.exporter, `process ${topic}`, 10_000, (span) =>
        span.instrumentationScope.name.includes('kafkajs'),
      );
      assertChildOf(create, request);
      assertChildOf(process, create);
      assert.equal(process.kind, SpanKind.CONSUMER);
      // berth's own clients stayed uninstrumented: its publish made no instrumentation span.
      assert.equal(
        tracing.exporter.getFinishedSpans().filter((span) => span.name === `send ${topic}`).length,
        0,
      );
    });
  },
);
