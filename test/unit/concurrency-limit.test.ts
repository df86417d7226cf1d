import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConcurrencyLimit } from '../../src/runtime/guard/concurrency-limit.ts';

describe('ConcurrencyLimit', () => {
  it('admits up to its concurrency, queues in order up to maxQueued, and refuses beyond', async () => {
    const limit = new ConcurrencyLimit(2, 2);
    await limit.acquire();
    await limit.acquire();
    const order: string[] = [];
    const third = limit.acquire()!.then(() => order.push('third'));
    const fourth = limit.acquire()!.then(() => order.push('fourth'));
    assert.equal(limit.acquire(), undefined, 'a full queue refuses');
    assert.deepEqual([limit.running, limit.queued], [2, 2]);
    limit.release();
    await third;
    assert.deepEqual(order, ['third']);
    limit.release();
    await fourth;
    assert.deepEqual(order, ['third', 'fourth']);
    assert.deepEqual([limit.running, limit.queued], [2, 0]);
    limit.release();
    limit.release();
    assert.equal(limit.running, 0);
  });

  it('drops a waiter whose signal aborts, and gives the slot to the next', async () => {
    const limit = new ConcurrencyLimit(1, 5);
    await limit.acquire();
    const controller = new AbortController();
    const aborted = limit.acquire(controller.signal)!;
    const next = limit.acquire()!;
    controller.abort(new Error('gave up'));
    await assert.rejects(aborted, /gave up/);
    assert.equal(limit.queued, 1);
    limit.release();
    await next;
    assert.equal(limit.running, 1);
  });

  it('rejects every waiter on rejectQueued', async () => {
    const limit = new ConcurrencyLimit(1, 5);
    await limit.acquire();
    const waiting = [limit.acquire()!, limit.acquire()!];
    limit.rejectQueued(new Error('closed'));
    for (const waiter of waiting) await assert.rejects(waiter, /closed/);
    assert.equal(limit.queued, 0);
  });

  it('rejects a waiter past maxWaitMs with the given reason, the oldest first, and an aborted signal at once', async () => {
    const limit = new ConcurrencyLimit(1, 5, { maxWaitMs: 100, expired: () => new Error('waited too long') });
    await limit.acquire();
    const started = performance.now();
    const first = limit.acquire()!;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = limit.acquire()!;
    await assert.rejects(first, /waited too long/);
    assert.ok(performance.now() - started >= 95, 'not before its wait was over');
    assert.equal(limit.queued, 1, 'the younger waiter still waits');
    limit.release();
    await second;
    assert.equal(limit.running, 1);
    const controller = new AbortController();
    controller.abort(new Error('already gone'));
    await assert.rejects(limit.acquire(controller.signal)!, /already gone/);
    assert.equal(limit.queued, 0);
  });
});
