import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConcurrencyLimit } from '../../src/runtime/concurrency-limit.ts';

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
});
