// Issue #25: with @opentelemetry/instrumentation-kafkajs patching the kafkajs that berth itself
// uses, registered before berth's broker or after it was already used, a message berth publishes
// is still handled in the publisher's trace: one trace from the request to berth's handler span.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { trace, type SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { Registry } from 'prom-client';
import { createKafkaBroker, type KafkaBroker } from '../../src/adapters/kafka/index.ts';
import { createLogger, createRuntime } from '../../src/runtime/index.ts';
import { findKafka } from '../support/servers.ts';
import { endedSpan, inMemoryTracing } from '../support/traced-app.ts';

const kafka = await findKafka();

/** Whether `span` descends from `ancestor` through the finished spans. */
function descendsFrom(span: ReadableSpan, ancestor: ReadableSpan, spans: readonly ReadableSpan[]): boolean {
  const parentOf = new Map<string, string | undefined>();
  for (const candidate of spans) {
    const parent: SpanContext | undefined = candidate.parentSpanContext;
    parentOf.set(candidate.spanContext().spanId, parent?.spanId);
  }
  const target = ancestor.spanContext().spanId;
  for (let id = parentOf.get(span.spanContext().spanId); id !== undefined; id = parentOf.get(id))
    if (id === target) return true;
  return false;
}

describe(
  'berth traced while instrumentation-kafkajs patches its kafkajs',
  { skip: 'skip' in kafka ? kafka.skip : false, timeout: 180_000 },
  () => {
    const tracing = inMemoryTracing();
    const runtime = createRuntime({ logger: createLogger({ level: 'silent' }), registry: new Registry() });
    const brokers: KafkaBroker[] = [];
    const instrumentation = new KafkaJsInstrumentation({ enabled: false });

    after(async () => {
      instrumentation.disable();
      await Promise.allSettled(brokers.map((broker) => broker.close()));
      await tracing.shutdown();
    });

    const newBroker = (): KafkaBroker => {
      const broker = createKafkaBroker(
        { brokers: 'skip' in kafka ? [] : kafka.brokers, clientId: 'berth-instrumented' },
        runtime,
      );
      brokers.push(broker);
      return broker;
    };

    const enable = (): void => {
      instrumentation.enable();
      // The instrumentation patches kafkajs's classes as `require` hands the module out.
      createRequire(import.meta.url)('kafkajs');
    };

    /** Publishes under a request span; resolves the request span and berth's process span of that message. */
    async function roundTrip(broker: KafkaBroker, topic: string, n: number) {
      const received: number[] = [];
      const subscription = broker.subscribe<{ n: number }>(
        topic,
        (message) => {
          received.push(message.value.n);
          return Promise.resolve();
        },
        { group: `instrumented-${randomUUID().slice(0, 8)}`, fromBeginning: true },
      );
      await subscription.ready;
      const request = `request ${n}`;
      await trace.getTracer('test').startActiveSpan(request, async (span) => {
        await broker.publish(topic, { key: 'k', value: { n } });
        span.end();
      });
      const started = performance.now();
      while (!received.includes(n)) {
        assert.ok(performance.now() - started < 60_000, `message ${n} was not handled`);
        await sleep(20);
      }
      await subscription.close();
      const requestSpan = await endedSpan(tracing.exporter, request, 5_000);
      const process = await endedSpan(
        tracing.exporter,
        `process ${topic}`,
        10_000,
        (span) =>
          span.instrumentationScope.name === 'berth' &&
          span.spanContext().traceId === requestSpan.spanContext().traceId,
      );
      return { requestSpan, process };
    }

    it('keeps one trace when the instrumentation is registered before the broker is made', async () => {
      enable();
      const broker = newBroker();
      const topic = `instrumented-before-${randomUUID().slice(0, 8)}`;
      const { requestSpan, process } = await roundTrip(broker, topic, 1);
      const spans = tracing.exporter.getFinishedSpans();
      assert.ok(descendsFrom(process, requestSpan, spans), 'the handler span descends from the request');
      // The instrumentation did patch berth's producer: its own send span is in the trace.
      const sends = spans.filter(
        (span) => span.name === `send ${topic}` && span.instrumentationScope.name.includes('kafkajs'),
      );
      assert.equal(sends.length, 1);
      instrumentation.disable();
    });

    it('keeps one trace when the instrumentation is registered after the broker was used', async () => {
      const broker = newBroker();
      const topic = `instrumented-after-${randomUUID().slice(0, 8)}`;
      await roundTrip(broker, topic, 2);
      enable();
      const { requestSpan, process } = await roundTrip(broker, topic, 3);
      assert.ok(
        descendsFrom(process, requestSpan, tracing.exporter.getFinishedSpans()),
        'the handler span descends from the request',
      );
    });
  },
);
