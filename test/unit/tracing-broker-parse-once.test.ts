// Issue #25: each message's trace context is read from its headers once at most: publish links
// what it injected without parsing it, and a delivered message's receive link and process span
// share one reading (they used to parse `traceparent` once each, and the send span once more).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { context, propagation, trace, type Context, type TextMapGetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { Registry } from 'prom-client';
import { createMemoryBroker } from '../../src/adapters/memory/index.ts';
import { createLogger, createRuntime } from '../../src/runtime/index.ts';

// The W3C propagator, counting the carriers that had a `traceparent` to read.
class CountingPropagator extends W3CTraceContextPropagator {
  reads = 0;
  override extract(parent: Context, carrier: unknown, getter: TextMapGetter): Context {
    if (getter.get(carrier, 'traceparent') !== undefined) this.reads++;
    return super.extract(parent, carrier, getter);
  }
}

const propagator = new CountingPropagator();
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

describe('trace context read once per message', () => {
  before(() => provider.register({ propagator }));
  after(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it('reads each delivered message once, and nothing when publishing', async () => {
    const runtime = createRuntime({ logger: createLogger({ level: 'silent' }), registry: new Registry() });
    const broker = createMemoryBroker({}, runtime);
    const count = 20;
    let handled = 0;
    const subscription = broker.subscribe(
      'parsed',
      () => {
        handled++;
        return Promise.resolve();
      },
      { group: 'g', fromBeginning: true },
    );
    await subscription.ready;
    await trace.getTracer('app').startActiveSpan('request', async (request) => {
      await broker.publish(
        'parsed',
        Array.from({ length: count }, (_, n) => ({ key: `k${n}`, value: { n } })),
      );
      request.end();
    });
    const started = performance.now();
    while (handled < count) {
      assert.ok(performance.now() - started < 10_000, `handled ${handled} of ${count}`);
      await sleep(10);
    }
    await subscription.close();
    await broker.close();
    assert.ok(propagator.reads <= count, `${propagator.reads} reads of ${count} messages' trace context`);
    const processes = exporter.getFinishedSpans().filter((span) => span.name === 'process parsed');
    assert.equal(processes.length, count);
  });
});
