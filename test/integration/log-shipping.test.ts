// A berth runtime's pino logger shipping its lines to an HTTP log collector through
// pino-opentelemetry-transport: OTLP/HTTP with JSON bodies, sent by the OpenTelemetry logs SDK's
// batch processor in pino's transport worker thread. The collector is stopped while the app
// goes on logging, and started again.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { createInfrastructure, createLogger, createRuntime } from '../../src/index.ts';
import {
  attributeOf,
  messageOf,
  startOtlpCollector,
  type OtlpCollector,
} from '../servers/fakes/otlp-collector.ts';
import { waitFor } from '../support/wait.ts';

// The batch processor's bounds: at most maxQueueSize records wait (more are dropped), sent in
// requests of at most maxExportBatchSize, or every scheduledDelayMillis.
const batching = {
  maxQueueSize: 1_000,
  maxExportBatchSize: 100,
  scheduledDelayMillis: 200,
  exportTimeoutMillis: 5_000,
};

// Capped for the test only: a worker that kept what it cannot send would run out of heap (and
// stop) long before the outage's 100 MB of lines were logged.
const workerHeapCapMb = 64;

function shippingTransport(collector: OtlpCollector) {
  return pino.transport({
    target: 'pino-opentelemetry-transport',
    options: {
      loggerName: 'berth',
      serviceVersion: '0.1.0',
      resourceAttributes: { 'service.name': 'log-shipping-test' },
      logRecordProcessorOptions: {
        recordProcessorType: 'batch',
        exporterOptions: {
          protocol: 'http',
          httpExporterOptions: { url: collector.logsUrl, timeoutMillis: 2_000 },
        },
        processorConfig: batching,
      },
    },
    worker: { resourceLimits: { maxOldGenerationSizeMb: workerHeapCapMb } },
  });
}

// The messages of the lines logged while the collector is away.
const outage = {
  burst: 'while the collector is down',
  steady: 'steady while the collector is down',
  flood: 'flood while the collector is down',
} as const;

const received = (collector: OtlpCollector, message: string): number =>
  collector.records().filter((record) => messageOf(record) === message).length;

describe('log shipping through pino-opentelemetry-transport', () => {
  it(
    'ships in batches; while the collector is down the app goes on and the buffer stays bounded; later lines arrive after',
    { timeout: 240_000 },
    async (t: TestContext) => {
      const collector = await startOtlpCollector();
      const transport = shippingTransport(collector);
      const worker = (transport as unknown as { worker: Worker }).worker;
      let workerStopped: unknown;
      worker.once('exit', (code) => (workerStopped ??= `exit code ${code}`));
      // A worker that dies makes the transport emit 'error', which would otherwise end the process.
      transport.on('error', (error: Error) => (workerStopped ??= error.message));
      const logger = createLogger({ level: 'debug' }, transport);
      const infra = await createInfrastructure(
        { broker: { driver: 'memory' } },
        createRuntime({ logger, registry: new Registry() }),
      );
      // After a failure the worker may hold a backlog that end() would wait for, blocking the thread.
      let passed = false;
      t.after(() =>
        inTurn([
          () => (passed ? Promise.resolve() : within(worker.terminate(), 10_000, 'the worker ends')),
          () => within(infra.close(), 30_000, 'infrastructure closes'),
          () => collector.start(),
          async () => {
            if (!passed) return;
            const closed = once(transport, 'close');
            transport.end();
            await within(closed, 15_000, 'the transport closes');
          },
          () => collector.stop(),
        ]),
      );
      await once(transport, 'ready');
      await infra.start();

      // 1. A guarded operation's lines arrive in batches: each handler's first attempt fails, and
      // the subscription's guard logs every retry (at debug).
      const failedOnce = new Set<string>();
      let handled = 0;
      const subscription = infra.broker.subscribe<{ n: number }>(
        'orders',
        (message) => {
          if (failedOnce.has(message.id)) {
            handled += 1;
            return Promise.resolve();
          }
          failedOnce.add(message.id);
          return Promise.reject(new Error(`order ${message.value.n} not ready`));
        },
        { group: 'shipping', maxAttempts: 2, retryDelayMs: { initial: 1, max: 1 }, concurrency: 8 },
      );
      await subscription.ready;
      await infra.broker.publish(
        'orders',
        Array.from({ length: 300 }, (_, n) => ({ key: `order-${n}`, value: { n } })),
      );
      logger.info({ url: 'redis://app:s3cret@cache:6379' }, 'connecting');
      await waitFor('300 orders handled', () => Promise.resolve(handled === 300), 30_000);
      await waitFor(
        'the 300 retry lines at the collector',
        () => Promise.resolve(received(collector, 'handler failed, retrying') === 300),
        30_000,
      );
      const retryLine =
        collector.records().find((record) => messageOf(record) === 'handler failed, retrying') ?? {};
      assert.equal(attributeOf(retryLine, 'component'), 'broker:memory');
      assert.equal(attributeOf(retryLine, 'topic'), 'orders');
      assert.equal(retryLine.severityText, 'debug');
      assert.equal(collector.requests[0]?.serviceName, 'log-shipping-test');
      const sizes = collector.requests.map((request) => request.records.length);
      assert.ok(Math.max(...sizes) > 1, `records per request: ${sizes.join(', ')}`);
      assert.ok(
        Math.max(...sizes) <= batching.maxExportBatchSize,
        `records per request: ${sizes.join(', ')}`,
      );
      // berth's logger redacts before a line leaves the process.
      const connecting = collector.records().find((record) => messageOf(record) === 'connecting') ?? {};
      assert.equal(attributeOf(connecting, 'url'), '<redacted>');
      assert.equal(
        JSON.stringify(collector.records()).includes('s3cret'),
        false,
        'a password reached the collector',
      );
      process.stderr.write(
        `collector up: ${collector.records().length} records in ${sizes.length} requests (largest ${Math.max(...sizes)})\n`,
      );

      // 2. The collector goes away. A log call stays a copy into the worker's buffer: as fast as
      // logging to a local stream that drops everything (measured alike, for scale).
      await collector.stop();
      const requestsBefore = collector.requests.length;
      const burstMs = timeBurst(logger, outage.burst);
      const localMs = timeBurst(
        createLogger({ level: 'debug' }, new Writable({ write: (_c, _e, done) => done() })),
        'local',
      );
      assert.ok(burstMs < 5_000, `10,000 log calls took ${Math.round(burstMs)} ms`);

      // Lines of about 1 KB, 20 every 10 ms for 3 s: the event loop stays responsive.
      const padding = 'x'.repeat(1_000);
      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      let steady = 0;
      const steadyStarted = performance.now();
      while (performance.now() - steadyStarted < 3_000) {
        for (let i = 0; i < 20; i++) logger.info({ n: steady++, padding }, outage.steady);
        await sleep(10);
      }
      delay.disable();
      const p99Ms = delay.percentile(99) / 1e6;
      assert.ok(p99Ms < 250, `event loop delay p99 ${p99Ms.toFixed(1)} ms`);

      // 100,000 lines of 1 KB (100 MB, 100 times the queue), past the worker's heap cap.
      // Each 1,000 are read by the worker before the next: the lines wait in the worker, not in the app.
      const flood = 100_000;
      for (let round = 0; round < flood / 1_000; round++) {
        for (let i = 0; i < 1_000; i++) logger.info({ n: i, padding }, outage.flood);
        await within(
          new Promise<void>((resolve) => transport.flush(() => resolve())),
          30_000,
          'the worker reads 1,000 lines',
        );
      }
      assert.equal(workerStopped, undefined, 'the transport worker stopped');
      const workerHeap = (await within(worker.getHeapStatistics(), 10_000, 'heap statistics')).used_heap_size;
      process.stderr.write(
        `collector down: 10,000 calls in ${Math.round(burstMs)} ms (${Math.round(localMs)} ms to a local stream); ` +
          `${steady} lines in 3 s with event loop delay p99 ${p99Ms.toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms; ` +
          `after ${flood} more lines of 1 KB the worker's heap holds ${mb(workerHeap)} (cap ${workerHeapCapMb} MB ` +
          `old generation), the app's ${mb(process.memoryUsage().heapUsed)}\n`,
      );
      assert.equal(collector.requests.length, requestsBefore, 'nothing arrived while the collector was down');

      // 3. The collector returns: later lines arrive. Of the outage's lines, no more than the queue
      // held and one batch in flight ever reach it; the rest were dropped.
      await collector.start();
      const back = performance.now();
      await waitFor(
        'a line logged after the collector returned',
        async () => {
          logger.info('after the collector returned');
          await sleep(100);
          return received(collector, 'after the collector returned') > 0;
        },
        60_000,
      );
      const resumedMs = performance.now() - back;
      for (let n = 0; n < 50; n++) logger.info({ n }, 'later');
      await waitFor('the 50 later lines', () => Promise.resolve(received(collector, 'later') === 50), 30_000);
      const shippedFromOutage = Object.values(outage)
        .map((message) => received(collector, message))
        .reduce((a, b) => a + b);
      process.stderr.write(
        `collector back: lines arrive again after ${Math.round(resumedMs)} ms; ${shippedFromOutage} of the ` +
          `${10_000 + steady + flood} lines logged while it was down reached it\n`,
      );
      assert.ok(
        shippedFromOutage <= batching.maxQueueSize + batching.maxExportBatchSize,
        `${shippedFromOutage} lines of the outage were shipped: more than the queue holds`,
      );
      assert.equal(workerStopped, undefined, 'the transport worker stopped');
      passed = true;
    },
  );
});

/** 10,000 small log calls in one synchronous loop, in milliseconds. */
function timeBurst(logger: Logger, message: string): number {
  const started = performance.now();
  for (let n = 0; n < 10_000; n++) logger.info({ n }, message);
  return performance.now() - started;
}

/** `promise`, or a failure naming `what` after `ms`; the timer never outlives it. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every step even when one fails, then throws the first failure. */
async function inTurn(steps: readonly (() => Promise<unknown>)[]): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) await step().catch((error: unknown) => failures.push(error));
  if (failures.length > 0) throw failures[0];
}

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}
