// The example service's path, traced: an HTTP request reads a cached greeting and publishes an
// event; a subscription writes a document per event. With an SDK whose spans go to memory, for
// tests that check one request is one trace across a real broker.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Broker, Cache, DocumentStore, Subscription } from '../../src/ports/index.ts';

/** A NodeTracerProvider (W3C propagator, AsyncLocalStorage context) whose spans stay in memory. */
export function inMemoryTracing(): { exporter: InMemorySpanExporter; shutdown: () => Promise<void> } {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  return {
    exporter,
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

export interface TracedApp {
  readonly base: string;
  readonly subscription: Subscription;
  /** Resolves once `count` events were written as documents. */
  written(count: number, withinMs: number): Promise<void>;
  close(): Promise<void>;
}

/** The app on `127.0.0.1`: GET /greet/:name → cache → publish on `topic` → handler → document. */
export async function startTracedApp(
  infra: { cache: Cache; broker: Broker; documents: DocumentStore },
  topic: string,
): Promise<TracedApp> {
  const tracer = trace.getTracer('traced-app');
  const greetings = infra.documents.collection<{ name: string }>('greetings');
  let writes = 0;
  const subscription = infra.broker.subscribe<{ name: string }>(
    topic,
    async (message) => {
      await greetings.insert({ name: message.value.name });
      writes++;
    },
    { group: `${topic}-writer`, fromBeginning: true },
  );
  await subscription.ready;
  const server: Server = createServer((req, res) => {
    // No HTTP instrumentation is installed: the server span is made here, as it would make it.
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const name = /^\/greet\/(\w+)$/.exec(req.url ?? '')?.[1];
    tracer.startActiveSpan('GET /greet/:name', { kind: SpanKind.SERVER }, parent, (span) => {
      const answer = async (): Promise<void> => {
        if (name === undefined) return void res.writeHead(404).end();
        const body = await infra.cache.getOrSet(
          `greeting:${name}`,
          () => Promise.resolve(`Hello, ${name}!`),
          {
            ttlMs: 60_000,
          },
        );
        await infra.broker.publish(topic, { key: name, value: { name } });
        res.writeHead(200).end(JSON.stringify(body));
      };
      answer()
        .catch((error: unknown) => {
          span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
          res.writeHead(503).end();
        })
        .finally(() => span.end());
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    base: `http://127.0.0.1:${port}`,
    subscription,
    written: async (count, withinMs) => {
      const started = performance.now();
      while (writes < count) {
        assert.ok(
          performance.now() - started < withinMs,
          `${writes} of ${count} documents written in ${withinMs} ms`,
        );
        await sleep(20);
      }
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await subscription.close();
    },
  };
}

/** A GET inside a CLIENT span of the test's own, its context sent as `traceparent`. */
export async function tracedGet(url: string): Promise<{ status: number; client: string }> {
  const tracer = trace.getTracer('test-client');
  return tracer.startActiveSpan('GET client', { kind: SpanKind.CLIENT }, async (span) => {
    const headers: Record<string, string> = {};
    propagation.inject(context.active(), headers);
    try {
      const response = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
      await response.text();
      return { status: response.status, client: span.spanContext().spanId };
    } finally {
      span.end();
    }
  });
}

/** Polls the exporter until a span named `name` (and passing `where`) ended. */
export async function endedSpan(
  exporter: InMemorySpanExporter,
  name: string,
  withinMs: number,
  where: (span: ReadableSpan) => boolean = () => true,
): Promise<ReadableSpan> {
  const started = performance.now();
  for (;;) {
    const span = exporter.getFinishedSpans().find((candidate) => candidate.name === name && where(candidate));
    if (span !== undefined) return span;
    const names = exporter.getFinishedSpans().map((candidate) => candidate.name);
    assert.ok(
      performance.now() - started < withinMs,
      `no span "${name}" within ${withinMs} ms; ended: ${names.join(', ')}`,
    );
    await sleep(20);
  }
}

/** Asserts `child`'s parent is `parent`, in the same trace. */
export function assertChildOf(child: ReadableSpan, parent: ReadableSpan): void {
  assert.equal(
    child.spanContext().traceId,
    parent.spanContext().traceId,
    `${child.name} is in ${parent.name}'s trace`,
  );
  assert.equal(
    child.parentSpanContext?.spanId,
    parent.spanContext().spanId,
    `${child.name} is a child of ${parent.name}`,
  );
}
