// What tracing costs guarded calls: the same ports on two runtimes, one with tracing on (the
// OpenTelemetry API installed) and one with `tracing: { enabled: false }`, interleaved round by
// round. First with no SDK registered (target: within 2%), then with an SDK and a
// BatchSpanProcessor whose exporter drops the spans, sampling every span and then 10% of the
// traces (ParentBased(TraceIdRatioBased(0.1))). Prints `ratio <name> <traced/off>` lines.
//   node --expose-gc bench/tracing.bench.ts   (BENCH_ONLY=memory|cache|kafka, BENCH_ROUNDS=…,
//   BENCH_SAME=1 for two equal sides)
import { randomUUID } from 'node:crypto';
import { context, propagation, trace } from '@opentelemetry/api';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { Registry } from 'prom-client';
import { createKafkaBroker } from '../src/adapters/kafka/index.ts';
import { createMemoryCache } from '../src/adapters/memory/index.ts';
import { createRedisCache } from '../src/adapters/redis/index.ts';
import type { Broker, Cache } from '../src/ports/index.ts';
import { createLogger, createRuntime, type Runtime } from '../src/runtime/index.ts';
import { ensureService } from '../test/servers/services.ts';
import { median, timed } from './timing.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 10);
const only = process.env.BENCH_ONLY;
const memoryOps = Number(process.env.BENCH_MEMORY_OPS ?? 200_000);
const redisOps = Number(process.env.BENCH_OPS ?? 20_000);
const publishCount = Number(process.env.BENCH_MESSAGES ?? 20_000);
const consumeCount = Number(process.env.BENCH_CONSUME_MESSAGES ?? 50_000);

const runtimeOf = (enabled: boolean): Runtime =>
  createRuntime({
    logger: createLogger({ level: 'silent' }),
    registry: new Registry(),
    tracing: { enabled },
    // A busy machine stalls single calls for seconds; a bench must not fail for that.
    policies: { timeoutMs: 30_000 },
  });
// BENCH_SAME=1 runs both sides with tracing off: how far apart two equal sides measure here.
const same = process.env.BENCH_SAME === '1';
const traced = runtimeOf(!same);
const off = runtimeOf(false);
if (!same && traced.tracing === undefined)
  throw new Error('@opentelemetry/api is not installed: nothing to measure');

async function serviceEnv(name: 'redis' | 'kafka', variable: string): Promise<string> {
  const value = process.env[variable] ?? (await ensureService(name))[variable];
  if (!value) throw new Error(`no ${variable}`);
  return value;
}

/** Milliseconds for one side's run; called in turn with the other side's, first side alternating. */
type Run = () => Promise<number>;

interface Case {
  name: string;
  traced: Run;
  off: Run;
}

/**
 * off ms / traced ms: above 1, the traced side was faster. Rounds go in pairs, one with each
 * side first, and a pair's ratio is the geometric mean of its two: whichever side runs first in
 * a round was measured up to twice as slow (a consumer reading a topic the other just read), so
 * an odd number of rounds, or a median of single rounds, leans towards one side. The median of
 * the pairs is printed.
 */
async function compare(bench: Case): Promise<number> {
  for (let warmup = 0; warmup < 2; warmup++) await Promise.resolve().then(bench.traced).then(bench.off);
  const pairs: number[] = [];
  for (let pair = 0; pair < Math.max(1, Math.round(rounds / 2)); pair++) {
    const tracedFirst = [await bench.traced(), await bench.off()];
    const offFirst = [await bench.off(), await bench.traced()];
    pairs.push(Math.sqrt((tracedFirst[1]! / tracedFirst[0]!) * (offFirst[0]! / offFirst[1]!)));
  }
  return median(pairs);
}

function cacheCases(label: string, tracedCache: Cache, offCache: Cache, ops: number): Case[] {
  return [1, 64].map((workers) => ({
    name: `${label}.get.c${workers}`,
    traced: () => timed(0, ops, workers, () => tracedCache.get('k')),
    off: () => timed(0, ops, workers, () => offCache.get('k')),
  }));
}

/** Publishes `count` messages through `broker`, 64 calls in flight. */
function publishRun(broker: Broker, topic: string): Run {
  const value = { id: 42, name: 'berth', tags: ['a', 'b'] };
  return () => timed(0, publishCount, 64, (i) => broker.publish(topic, { key: `k${i % 100}`, value }));
}

/** Reads the whole topic with a new group: milliseconds from the first delivery to the last. */
function consumeRun(broker: Broker, topic: string): Run {
  return async () => {
    let seen = 0;
    let first = 0;
    const done = Promise.withResolvers<number>();
    const subscription = broker.subscribe(
      topic,
      () => {
        if (seen++ === 0) first = performance.now();
        if (seen === consumeCount) done.resolve(performance.now() - first);
        return Promise.resolve();
      },
      { group: `bench-${randomUUID()}`, fromBeginning: true },
    );
    await subscription.ready;
    const ms = await done.promise;
    await subscription.close();
    return ms;
  };
}

async function buildCases(): Promise<{ cases: Case[]; close: () => Promise<void> }> {
  const cases: Case[] = [];
  const closers: (() => Promise<void>)[] = [];
  if (only === undefined || only === 'cache' || only === 'memory') {
    const memory = [createMemoryCache({}, traced), createMemoryCache({}, off)] as const;
    for (const cache of memory) await cache.set('k', { id: 42, name: 'berth' });
    cases.push(...cacheCases('cache.memory', memory[0], memory[1], memoryOps));
    closers.push(...memory.map((cache) => () => cache.close()));
  }
  if (only === undefined || only === 'cache') {
    const url = await serviceEnv('redis', 'REDIS_URL');
    const prefix = `bench-tracing-${randomUUID().slice(0, 8)}:`;
    const redis = [
      createRedisCache({ url, keyPrefix: prefix }, traced),
      createRedisCache({ url, keyPrefix: prefix }, off),
    ];
    await redis[0]!.set('k', { id: 42, name: 'berth' });
    cases.push(...cacheCases('cache.redis', redis[0]!, redis[1]!, redisOps));
    closers.push(...redis.map((cache) => () => cache.close()));
  }
  if (only === undefined || only === 'kafka') {
    const brokers = (await serviceEnv('kafka', 'KAFKA_BROKERS')).split(',');
    const kafka = [traced, off].map((runtime) =>
      createKafkaBroker({ brokers, clientId: 'bench-tracing' }, runtime),
    );
    const publishTopic = `bench-tracing-publish-${randomUUID().slice(0, 8)}`;
    const consumeTopic = `bench-tracing-consume-${randomUUID().slice(0, 8)}`;
    // The topic to read, written once (as the traced side writes it: with creation contexts when an SDK runs).
    for (let i = 0; i < consumeCount; i += 1_000)
      await kafka[1]!.publish(
        consumeTopic,
        Array.from({ length: 1_000 }, (_, j) => ({ key: `k${(i + j) % 100}`, value: { i: i + j } })),
      );
    cases.push(
      {
        name: 'kafka.publish.c64',
        traced: publishRun(kafka[0]!, publishTopic),
        off: publishRun(kafka[1]!, publishTopic),
      },
      {
        name: 'kafka.consume.c1',
        traced: consumeRun(kafka[0]!, consumeTopic),
        off: consumeRun(kafka[1]!, consumeTopic),
      },
    );
    closers.push(...kafka.map((broker) => () => broker.close()));
  }
  return { cases, close: async () => void (await Promise.all(closers.map((close) => close()))) };
}

// Counts what it is handed and keeps nothing: the SDK's work without an exporter's.
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

const { cases, close } = await buildCases();
for (const bench of cases) {
  console.log(`ratio tracing.${bench.name}.api-without-sdk ${(await compare(bench)).toFixed(3)}`);
}
/** Runs every case with an SDK registered: a batch processor, spans dropped, `sampler` or every span. */
async function withSdk(label: string, sampler: Sampler | undefined): Promise<void> {
  const exporter = new DroppingExporter();
  const provider = new NodeTracerProvider({
    ...(sampler === undefined ? {} : { sampler }),
    spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 65_536, maxExportBatchSize: 4_096 })],
  });
  provider.register();
  for (const bench of cases)
    console.log(`ratio tracing.${bench.name}.${label} ${(await compare(bench)).toFixed(3)}`);
  await provider.forceFlush();
  console.error(`spans exported with the SDK (${label}): ${exporter.spans}`);
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
}

await withSdk('sdk-batch-processor', undefined);
await withSdk('sdk-sampled-10pct', new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) }));
await close();
