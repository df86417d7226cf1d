// Issue #27: handler middleware, per subscription and for every subscription of a broker
// (withMiddleware), runs around each handler attempt in the order given, can acknowledge a message
// without the handler, and stays inside the broker's retries and dead-lettering.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { createMemoryBroker } from '../../src/adapters/memory/index.ts';
import {
  isInfraError,
  type Broker,
  type HandlerMiddleware,
  type ReceivedMessage,
} from '../../src/ports/index.ts';
import { createLogger, createRuntime, withMiddleware } from '../../src/runtime/index.ts';

function memoryBroker(): Broker {
  return createMemoryBroker(
    {},
    createRuntime({ logger: createLogger({ level: 'silent' }), registry: new Registry() }),
  );
}

async function until(what: string, done: () => boolean): Promise<void> {
  const started = performance.now();
  while (!done()) {
    assert.ok(performance.now() - started < 5_000, `${what} within 5 s`);
    await sleep(5);
  }
}

const tracing =
  (name: string, log: string[]): HandlerMiddleware =>
  async (_message, _signal, next) => {
    log.push(`${name} before`);
    await next();
    log.push(`${name} after`);
  };

describe('handler middleware', () => {
  it('runs the broker’s middleware, then the subscription’s, in the order given, around the handler', async () => {
    const log: string[] = [];
    const broker = withMiddleware(memoryBroker(), tracing('broker', log));
    const subscription = broker.subscribe(
      'ordered',
      () => {
        log.push('handler');
        return Promise.resolve();
      },
      { group: 'g', fromBeginning: true, middleware: [tracing('first', log), tracing('second', log)] },
    );
    await subscription.ready;
    await broker.publish('ordered', { value: 1 });
    await until('the chain ran', () => log.length === 7);
    assert.deepEqual(log, [
      'broker before',
      'first before',
      'second before',
      'handler',
      'second after',
      'first after',
      'broker after',
    ]);
    await broker.close();
  });

  it('acknowledges a message a middleware does not pass on, without the handler or a dead letter', async () => {
    const broker = memoryBroker();
    const handled: unknown[] = [];
    const deadLetters: unknown[] = [];
    const skipTests: HandlerMiddleware = (message, _signal, next) =>
      message.headers['x-test'] === 'true' ? Promise.resolve() : next();
    const subscription = broker.subscribe(
      'filtered',
      (message) => {
        handled.push(message.value);
        return Promise.resolve();
      },
      { group: 'g', fromBeginning: true, middleware: [skipTests] },
    );
    const dead = broker.subscribe(
      'filtered.dead-letter',
      (message) => {
        deadLetters.push(message.value);
        return Promise.resolve();
      },
      { group: 'd', fromBeginning: true },
    );
    await Promise.all([subscription.ready, dead.ready]);
    await broker.publish('filtered', [
      { key: 'k', value: 'test', headers: { 'x-test': 'true' } },
      { key: 'k', value: 'real' },
    ]);
    await until('the real message was handled', () => handled.length === 1);
    await sleep(50);
    assert.deepEqual(handled, ['real']);
    assert.deepEqual(deadLetters, []);
    await broker.close();
  });

  it('fails an attempt a middleware fails: retried with the whole chain, then dead-lettered', async () => {
    const broker = memoryBroker();
    const attempts: number[] = [];
    let handlerRuns = 0;
    const dead: ReceivedMessage[] = [];
    const refuse: HandlerMiddleware = (message) => {
      attempts.push(message.attempt);
      return Promise.reject(new Error('refused by middleware'));
    };
    const subscription = broker.subscribe(
      'refused',
      () => {
        handlerRuns++;
        return Promise.resolve();
      },
      {
        group: 'g',
        fromBeginning: true,
        maxAttempts: 3,
        retryDelayMs: { initial: 1, max: 1 },
        middleware: [refuse],
      },
    );
    const deadLetters = broker.subscribe(
      'refused.dead-letter',
      (message) => {
        dead.push(message);
        return Promise.resolve();
      },
      { group: 'd', fromBeginning: true },
    );
    await Promise.all([subscription.ready, deadLetters.ready]);
    await broker.publish('refused', { value: 'x' });
    await until('the message was dead-lettered', () => dead.length === 1);
    assert.deepEqual(attempts, [1, 2, 3]);
    assert.equal(handlerRuns, 0);
    assert.match(dead[0]!.headers['x-berth-error'] ?? '', /refused by middleware/);
    await broker.close();
  });

  it('fails an attempt whose middleware calls next() twice, so the handler never runs twice in one attempt', async () => {
    const broker = memoryBroker();
    let handlerRuns = 0;
    const errors: string[] = [];
    const twice: HandlerMiddleware = async (_message, _signal, next) => {
      await next();
      await next().catch((error: unknown) => {
        errors.push(String(error));
        throw error;
      });
    };
    const subscription = broker.subscribe(
      'twice',
      () => {
        handlerRuns++;
        return Promise.resolve();
      },
      { group: 'g', fromBeginning: true, maxAttempts: 1, middleware: [twice] },
    );
    await subscription.ready;
    await broker.publish('twice', { value: 'x' });
    await until('the attempt failed', () => errors.length === 1);
    assert.equal(handlerRuns, 1);
    assert.match(errors[0]!, /next\(\) twice/);
    await broker.close();
  });

  it('refuses middleware that is not an array of functions, before any consumer starts', () => {
    const broker = memoryBroker();
    for (const middleware of [['not a function'], 'nope', [() => Promise.resolve(), 42]]) {
      assert.throws(
        () =>
          broker.subscribe('bad', () => Promise.resolve(), {
            group: 'g',
            middleware: middleware as unknown as HandlerMiddleware[],
          }),
        (error: unknown) =>
          isInfraError(error) &&
          error.reason === 'validation' &&
          /middleware: must be an array of functions/.test(error.message),
      );
    }
  });
});
