import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, afterEach, before, describe, it } from 'node:test';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { Registry } from 'prom-client';
import { createMemoryCache, createMemoryLlmClient } from '../../src/adapters/memory/index.ts';
import { InfraError } from '../../src/ports/index.ts';
import {
  createLogger,
  createRuntime,
  Guard,
  semconv,
  type Runtime,
  type RuntimeOptions,
} from '../../src/runtime/index.ts';
import { createTracing } from '../../src/runtime/telemetry/tracing.ts';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

function runtimeWith(options: RuntimeOptions = {}): Runtime {
  return createRuntime({ logger: createLogger({ level: 'silent' }), registry: new Registry(), ...options });
}

function fakeGuard(runtime: Runtime) {
  return new Guard<'read'>(
    {
      id: 'test:fake',
      port: 'test',
      system: 'fake',
      operations: { read: { idempotent: true } },
      metrics: semconv.dbClientOperationDuration,
      classifyError: () => ({ reason: 'unavailable' }),
      policies: { retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 } },
      server: { address: 'db.internal', port: 6380, namespace: '2' },
    },
    runtime,
  );
}

describe('tracing: spans of guarded calls', () => {
  before(() => provider.register());
  afterEach(() => exporter.reset());
  after(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it('opens one CLIENT span per call with the database conventions', async () => {
    const cache = createMemoryCache({}, runtimeWith());
    await cache.set('k', { a: 1 });
    assert.deepEqual(await cache.get('k'), { a: 1 });
    const spans = exporter.getFinishedSpans();
    assert.deepEqual(
      spans.map((span) => span.name),
      ['set', 'get'],
    );
    const get = spans[1]!;
    assert.equal(get.kind, SpanKind.CLIENT);
    assert.equal(get.attributes['db.system.name'], 'memory');
    assert.equal(get.attributes['db.operation.name'], 'get');
    assert.equal(get.attributes['berth.component'], 'cache:memory');
    assert.equal(get.status.code, SpanStatusCode.UNSET);
  });

  it('names the server and namespace, records retries as events and a failure as error.type', async () => {
    const guard = fakeGuard(runtimeWith());
    let calls = 0;
    await assert.rejects(
      guard.run('read', undefined, () => {
        calls++;
        return Promise.reject(new Error('connection refused'));
      }),
      (error: unknown) => error instanceof InfraError && error.reason === 'unavailable',
    );
    assert.equal(calls, 3);
    const [span] = exporter.getFinishedSpans();
    assert.ok(span);
    assert.equal(span.name, 'read 2');
    assert.equal(span.attributes['server.address'], 'db.internal');
    assert.equal(span.attributes['server.port'], 6380);
    assert.equal(span.attributes['db.namespace'], '2');
    assert.equal(span.attributes['error.type'], 'unavailable');
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.deepEqual(
      span.events.map((event) => [event.name, event.attributes?.['berth.retry.attempt']]),
      [
        ['retry', 2],
        ['retry', 3],
      ],
    );
  });

  it('runs the adapter call inside its span, so what the driver starts is its child', async () => {
    const guard = fakeGuard(runtimeWith());
    const tracer = trace.getTracer('driver');
    await guard.run('read', undefined, () => {
      tracer.startSpan('driver command').end();
      return Promise.resolve(1);
    });
    const spans = exporter.getFinishedSpans();
    const driver = spans.find((span) => span.name === 'driver command')!;
    const call = spans.find((span) => span.name === 'read 2')!;
    assert.equal(driver.parentSpanContext?.spanId, call.spanContext().spanId);
    assert.equal(driver.spanContext().traceId, call.spanContext().traceId);
  });

  it('makes the caller span the parent of the call span', async () => {
    const cache = createMemoryCache({}, runtimeWith());
    const tracer = trace.getTracer('app');
    await tracer.startActiveSpan('request', async (request) => {
      await cache.has('x');
      request.end();
    });
    const spans = exporter.getFinishedSpans();
    const has = spans.find((span) => span.name === 'has')!;
    const request = spans.find((span) => span.name === 'request')!;
    assert.equal(has.parentSpanContext?.spanId, request.spanContext().spanId);
  });

  it('gives the LLM call the gen_ai conventions: chat <model>, usage and finish reason', async () => {
    const llm = createMemoryLlmClient(
      { model: 'tiny', replies: [{ text: 'hi there', usage: { inputTokens: 7, outputTokens: 2 } }] },
      runtimeWith(),
    );
    await llm.generate({ messages: [{ role: 'user', content: 'hello' }] });
    const [span] = exporter.getFinishedSpans();
    assert.ok(span);
    assert.equal(span.name, 'chat tiny');
    assert.equal(span.attributes['gen_ai.provider.name'], 'memory');
    assert.equal(span.attributes['gen_ai.operation.name'], 'chat');
    assert.equal(span.attributes['gen_ai.request.model'], 'tiny');
    assert.equal(span.attributes['gen_ai.response.model'], 'tiny');
    assert.equal(span.attributes['gen_ai.usage.input_tokens'], 7);
    assert.equal(span.attributes['gen_ai.usage.output_tokens'], 2);
    assert.deepEqual(span.attributes['gen_ai.response.finish_reasons'], ['stop']);
  });

  it('makes no span when switched off, by option, by BERTH_TRACING=off, or for a suppressed system', async () => {
    const off = [
      runtimeWith({ tracing: { enabled: false } }),
      runtimeWith({ tracing: { suppressFor: ['memory'] } }),
    ];
    for (const runtime of off) await createMemoryCache({}, runtime).set('k', 1);
    assert.equal(exporter.getFinishedSpans().length, 0);
    assert.equal(createTracing(undefined, { BERTH_TRACING: 'off' }), undefined);
    assert.equal(createTracing({ enabled: true }, { BERTH_TRACING: 'off' })?.suppresses('kafka'), false);
    assert.equal(
      createTracing(undefined, { BERTH_TRACING_SUPPRESS_FOR: 'redis, kafka' })?.suppresses('kafka'),
      true,
    );
  });

  it('writes trace_id and span_id into log lines written inside a span, and none outside', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ level: 'info' }, sink).child({ component: 'x' });
    logger.info('outside');
    const span = trace.getTracer('app').startSpan('work');
    context.with(trace.setSpan(context.active(), span), () => logger.info('inside'));
    span.end();
    const [outside, inside] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(outside?.trace_id, undefined);
    assert.equal(inside?.trace_id, span.spanContext().traceId);
    assert.equal(inside?.span_id, span.spanContext().spanId);
    assert.equal(inside?.trace_flags, '01');
  });
});

describe('tracing: without an SDK', () => {
  it('the API hands out non-recording spans, and berth makes none at all', async () => {
    trace.disable();
    const apiSpan = trace.getTracer('probe').startSpan('x');
    assert.equal(apiSpan.isRecording(), false);
    const runtime = runtimeWith();
    assert.ok(runtime.tracing, 'the API is installed, so the runtime has tracing');
    assert.equal(runtime.tracing.tracer(), undefined);
    const cache = createMemoryCache({}, runtime);
    await cache.set('k', 1);
    assert.equal(await cache.get('k'), 1);
  });
});
