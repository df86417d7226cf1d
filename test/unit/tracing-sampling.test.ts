// Issue #25: a call whose span is sampled out costs little, yet what its adapter starts still
// sees a trace that is not sampled (so a driver's span is not sampled on its own as a new root);
// a sampled call's span ends with the call's outcome.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  context,
  propagation,
  SpanStatusCode,
  trace,
  TraceFlags,
  type SpanContext,
} from '@opentelemetry/api';
import {
  AlwaysOnSampler,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { Registry } from 'prom-client';
import { InfraError } from '../../src/ports/index.ts';
import { createLogger, createRuntime, Guard, semconv } from '../../src/runtime/index.ts';

const exporter = new InMemorySpanExporter();
// Roots never sampled; children follow their parent, as ParentBased(TraceIdRatioBased) does.
const provider = new NodeTracerProvider({
  sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0) }),
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});

function guard() {
  return new Guard<'read'>(
    {
      id: 'test:sampled',
      port: 'test',
      system: 'fake',
      operations: { read: { idempotent: true } },
      metrics: semconv.dbClientOperationDuration,
      classifyError: () => ({ reason: 'unavailable' }),
      policies: { retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 2 } },
    },
    createRuntime({ logger: createLogger({ level: 'silent' }), registry: new Registry() }),
  );
}

/** The span context active while the adapter's call runs. */
function activeInside(): SpanContext | undefined {
  return trace.getSpanContext(context.active());
}

describe('tracing: sampled-out calls', () => {
  before(() => provider.register());
  afterEach(() => exporter.reset());
  after(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it('records nothing for a root call sampled out, and its adapter runs in a trace not sampled', async () => {
    let inside: SpanContext | undefined;
    const value = await guard().run('read', undefined, () => {
      inside = activeInside();
      return Promise.resolve(7);
    });
    assert.equal(value, 7);
    assert.ok(inside !== undefined, 'a span context is active inside the call');
    assert.equal(inside.traceFlags & TraceFlags.SAMPLED, 0);
    assert.deepEqual(exporter.getFinishedSpans(), []);
  });

  it('keeps a sampled-out parent trace inside a call under it, and still fails and retries the call', async () => {
    const tracer = trace.getTracer('app');
    const parent = tracer.startSpan('request');
    let attempts = 0;
    const seen: (string | undefined)[] = [];
    const failed = await context
      .with(trace.setSpan(context.active(), parent), () =>
        guard().run('read', undefined, () => {
          attempts++;
          seen.push(activeInside()?.traceId);
          return Promise.reject(new Error('down'));
        }),
      )
      .catch((error: unknown) => error);
    parent.end();
    assert.ok(failed instanceof InfraError);
    assert.equal(attempts, 2);
    assert.deepEqual(seen, [parent.spanContext().traceId, parent.spanContext().traceId]);
    assert.deepEqual(exporter.getFinishedSpans(), []);
  });

  it('ends a sampled call span once, with the outcome, before the caller resumes', async () => {
    // A sampled remote parent makes the child sampled under ParentBased.
    const sampled = trace.setSpanContext(context.active(), {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    const ended = await context.with(sampled, async () => {
      await guard().run('read', undefined, () => Promise.resolve(1));
      return exporter.getFinishedSpans().map((span) => span.name);
    });
    assert.deepEqual(ended, ['read']);
    const failed = await context.with(sampled, () =>
      guard()
        .run('read', undefined, () => Promise.reject(new Error('down')))
        .catch(
          () =>
            exporter.getFinishedSpans().filter((span) => span.status.code === SpanStatusCode.ERROR).length,
        ),
    );
    assert.equal(failed, 1);
  });
});

describe('tracing: a sampler that keeps what a sampled-out parent starts', () => {
  const kept = new InMemorySpanExporter();
  const alwaysOn = new NodeTracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new SimpleSpanProcessor(kept)],
  });
  before(() => alwaysOn.register());
  after(async () => {
    await alwaysOn.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it('still gets a span for a call under a parent sampled out', async () => {
    const sampledOut = trace.setSpanContext(context.active(), {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.NONE,
      isRemote: true,
    });
    await context.with(sampledOut, () => guard().run('read', undefined, () => Promise.resolve(1)));
    const names = kept.getFinishedSpans().map((span) => span.name);
    assert.deepEqual(names, ['read']);
  });
});
