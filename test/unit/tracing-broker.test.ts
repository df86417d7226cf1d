import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { Registry } from 'prom-client';
import { createMemoryBroker } from '../../src/adapters/memory/index.ts';
import type { ReceivedMessage } from '../../src/ports/index.ts';
import { createLogger, createRuntime } from '../../src/runtime/index.ts';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

function brokerWithRegistry() {
  const registry = new Registry();
  const runtime = createRuntime({ logger: createLogger({ level: 'silent' }), registry });
  return { broker: createMemoryBroker({}, runtime), registry };
}

async function until<T>(what: string, check: () => T | undefined, withinMs = 10_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() - started > withinMs) assert.fail(`${what}: not within ${withinMs} ms`);
    await sleep(10);
  }
}

const named = (name: string) => (span: ReadableSpan) => span.name === name;

describe('tracing across the broker (memory)', () => {
  before(() => provider.register());
  afterEach(() => exporter.reset());
  after(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it('carries the creation context from publish to the handler, whose work joins the trace', async () => {
    const { broker, registry } = brokerWithRegistry();
    const seen: ReceivedMessage<{ n: number }>[] = [];
    const tracer = trace.getTracer('app');
    const subscription = broker.subscribe<{ n: number }>(
      'orders',
      (message) => {
        seen.push(message);
        tracer.startSpan('handler work').end();
        return Promise.resolve();
      },
      { group: 'g', fromBeginning: true },
    );
    await subscription.ready;
    await tracer.startActiveSpan('request', async (request) => {
      await broker.publish('orders', { key: 'k', value: { n: 1 } });
      request.end();
    });
    await until('the message is handled', () => (seen.length === 1 ? true : undefined));
    const work = await until('the handler span ended', () =>
      exporter.getFinishedSpans().find(named('handler work')),
    );
    const process = await until('the process span ended', () =>
      exporter.getFinishedSpans().find(named('process orders')),
    );
    const spans = exporter.getFinishedSpans();
    const request = spans.find(named('request'))!;
    const create = spans.find(named('create orders'))!;
    const send = spans.find(named('publish orders'))!;
    const receive = spans.find(named('receive orders'))!;

    const traceId = request.spanContext().traceId;
    for (const span of [create, send, process, work])
      assert.equal(span.spanContext().traceId, traceId, span.name);
    assert.equal(create.kind, SpanKind.PRODUCER);
    assert.equal(create.parentSpanContext?.spanId, request.spanContext().spanId);
    assert.equal(send.kind, SpanKind.CLIENT);
    assert.equal(send.attributes['messaging.operation.type'], 'send');
    assert.equal(send.attributes['messaging.destination.name'], 'orders');
    assert.deepEqual(
      send.links.map((link) => link.context.spanId),
      [create.spanContext().spanId],
    );
    assert.equal(process.kind, SpanKind.CONSUMER);
    assert.equal(process.parentSpanContext?.spanId, create.spanContext().spanId);
    assert.equal(process.attributes['messaging.operation.type'], 'process');
    assert.equal(process.attributes['messaging.consumer.group.name'], 'g');
    assert.equal(process.attributes['messaging.message.id'], seen[0]!.id);
    assert.equal(work.parentSpanContext?.spanId, process.spanContext().spanId);
    assert.deepEqual(
      receive.links.map((link) => link.context.spanId),
      [create.spanContext().spanId],
    );
    assert.match(seen[0]!.headers.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    const text = await registry.metrics();
    assert.match(
      text,
      /^messaging_client_sent_messages_total\{[^}]*messaging_destination_name="orders"[^}]*\} 1$/m,
    );
    assert.match(
      text,
      /^messaging_client_consumed_messages_total\{[^}]*messaging_operation_name="receive",messaging_destination_name="orders",messaging_consumer_group_name="g"[^}]*\} 1$/m,
    );
    assert.match(
      text,
      /^messaging_process_duration_seconds_count\{[^}]*messaging_destination_name="orders"[^}]*\} 1$/m,
    );
    assert.match(
      text,
      /^messaging_client_operation_duration_seconds_count\{messaging_system="memory",component="broker:memory",messaging_operation_name="publish",messaging_operation_type="send",messaging_destination_name="orders"\} 1$/m,
    );
    assert.match(text, /^messaging_process_duration_seconds_bucket\{[^}]*le="0.075"\} 1$/m);
    await broker.close();
  });

  it('links instead of parenting with traceContext: "link", marks failed attempts, and dead-letters with the headers', async () => {
    const { broker } = brokerWithRegistry();
    const dead: ReceivedMessage<unknown>[] = [];
    const failing = broker.subscribe('jobs', () => Promise.reject(new Error('no')), {
      group: 'g',
      fromBeginning: true,
      traceContext: 'link',
      maxAttempts: 2,
      retryDelayMs: { initial: 1, max: 1 },
    });
    const deadLetters = broker.subscribe(
      'jobs.dead-letter',
      (message) => Promise.resolve(void dead.push(message)),
      {
        group: 'd',
        fromBeginning: true,
      },
    );
    await Promise.all([failing.ready, deadLetters.ready]);
    await trace.getTracer('app').startActiveSpan('request', async (request) => {
      await broker.publish('jobs', { value: 1 });
      request.end();
    });
    const letter = await until('the dead letter arrives', () => dead[0]);
    const spans = exporter.getFinishedSpans();
    const create = spans.find(named('create jobs'))!;
    const attempts = spans.filter(named('process jobs'));
    assert.equal(attempts.length, 2);
    for (const attempt of attempts) {
      assert.equal(attempt.parentSpanContext, undefined, 'a root span');
      assert.notEqual(attempt.spanContext().traceId, create.spanContext().traceId);
      assert.equal(attempt.links[0]?.context.spanId, create.spanContext().spanId);
      assert.equal(attempt.status.code, SpanStatusCode.ERROR);
      assert.equal(attempt.attributes['error.type'], 'Error');
    }
    assert.equal(
      letter.headers.traceparent,
      `00-${create.spanContext().traceId}-${create.spanContext().spanId}-01`,
    );
    // The dead letter's handler is a child of the original creation context.
    const deadProcess = await until('the dead letter is processed', () =>
      exporter.getFinishedSpans().find(named('process jobs.dead-letter')),
    );
    assert.equal(deadProcess.parentSpanContext?.spanId, create.spanContext().spanId);
    await broker.close();
  });

  it('rejects an unknown traceContext', () => {
    const { broker } = brokerWithRegistry();
    assert.throws(
      () =>
        broker.subscribe('x', () => Promise.resolve(), { group: 'g', traceContext: 'sideways' as 'link' }),
      /traceContext: must be "parent" or "link"/,
    );
  });
});
