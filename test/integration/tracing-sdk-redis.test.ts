// Issue #25: with an OpenTelemetry SDK registered mid-process (batch processor, spans dropped),
// sustained traced load on the memory cache and then on Redis must leave every Redis call
// answering at once; the bench saw the first Redis get after the memory cases wait for its deadline.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { context, propagation, trace } from '@opentelemetry/api';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { Registry } from 'prom-client';
import { createMemoryCache } from '../../src/adapters/memory/index.ts';
import { createRedisCache } from '../../src/adapters/redis/index.ts';
import type { Cache } from '../../src/ports/index.ts';
import { createLogger, createRuntime, type Runtime } from '../../src/runtime/index.ts';
import { findRedis } from '../support/servers.ts';

const redis = await findRedis();
// The guard's deadline: shorter than the memory load below, which holds the event loop in microtasks.
const deadlineMs = 3_000;
// A Redis get on this machine takes well under a millisecond; a loaded machine stalls a call for some.
const boundMs = 1_000;
const loadMs = Number(process.env.BERTH_TEST_TRACED_LOAD_MS ?? 4_000);

const runtimeOf = (enabled: boolean): Runtime =>
  createRuntime({
    logger: createLogger({ level: 'silent' }),
    registry: new Registry(),
    tracing: { enabled },
    policies: { timeoutMs: deadlineMs },
  });

// Keeps nothing: the SDK's work without an exporter's, as the bench measures it.
class DroppingExporter implements SpanExporter {
  spans = 0;
  export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    this.spans += spans.length;
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** `count` calls of `op`, `workers` in flight; the slowest call's milliseconds and the failures. */
async function load(count: number, workers: number, op: () => Promise<unknown>) {
  let next = 0;
  let slowestMs = 0;
  const failures: unknown[] = [];
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next++ < count) {
        const started = performance.now();
        await op().catch((error: unknown) => failures.push(error));
        slowestMs = Math.max(slowestMs, performance.now() - started);
      }
    }),
  );
  return { slowestMs, failures };
}

describe(
  'traced Redis calls after traced memory load',
  { skip: 'skip' in redis ? redis.skip : false },
  () => {
    const traced = runtimeOf(true);
    const off = runtimeOf(false);
    const url = 'skip' in redis ? 'redis://unused' : redis.url;
    const prefix = `tracing-sdk-${process.pid}:`;
    const caches: Cache[] = [];
    const exporter = new DroppingExporter();
    let provider: NodeTracerProvider | undefined;

    before(async () => {
      caches.push(
        createMemoryCache({}, traced),
        createMemoryCache({}, off),
        createRedisCache({ url, keyPrefix: prefix }, traced),
        createRedisCache({ url, keyPrefix: prefix }, off),
      );
      for (const cache of caches) await cache.set('k', { id: 42, name: 'berth' });
      // Untraced first, as the bench's cases without an SDK run before it registers one.
      for (const workers of [1, 64])
        for (const cache of caches.slice(2)) await load(2_000, workers, () => cache.get('k'));
    });

    after(async () => {
      await Promise.all(caches.map((cache) => cache.close()));
      await provider?.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    });

    it('answers every Redis get well under the deadline', async () => {
      provider = new NodeTracerProvider({
        spanProcessors: [
          new BatchSpanProcessor(exporter, { maxQueueSize: 65_536, maxExportBatchSize: 4_096 }),
        ],
      });
      provider.register();
      const [memoryTraced, memoryOff, redisTraced, redisOff] = caches as [Cache, Cache, Cache, Cache];
      // Memory rounds in both orders, c1 and c64, until the load has lasted longer than the deadline.
      const started = performance.now();
      while (performance.now() - started < loadMs)
        for (const workers of [1, 64])
          for (const cache of [memoryTraced, memoryOff, memoryOff, memoryTraced]) {
            const memory = await load(20_000, workers, () => cache.get('k'));
            assert.deepEqual(memory.failures, []);
          }
      for (let round = 0; round < 3; round++)
        for (const workers of [1, 64])
          for (const cache of [redisTraced, redisOff]) {
            const { slowestMs, failures } = await load(2_000, workers, () => cache.get('k'));
            assert.deepEqual(failures, [], `round ${round}, c${workers}`);
            assert.ok(
              slowestMs < boundMs,
              `round ${round}, c${workers}: slowest get took ${slowestMs.toFixed(0)} ms`,
            );
          }
      await provider.forceFlush();
      assert.ok(exporter.spans > 0, 'the SDK recorded the traced calls');
    });
  },
);
