import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeadlineScheduler } from '../../src/runtime/guard/deadline-scheduler.ts';

/** Keeps the event loop busy for `ms`, as a burst of CPU work in an application would. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('DeadlineScheduler', () => {
  it('expires an operation within one tick of its deadline although the loop was held up on the way', async () => {
    const scheduler = new DeadlineScheduler();
    const timeoutMs = 1_000;
    const started = performance.now();
    const expired = new Promise<number>((resolve) =>
      scheduler.add(timeoutMs, () => resolve(performance.now())),
    );
    // Ten stalls of 40 ms: ticks missed meanwhile are not made up by the interval timer, so a
    // deadline that counted ticks came about 300 ms late.
    const stalls = Array.from({ length: 10 }, (_, i) => setTimeout(() => busy(40), 50 + i * 80));
    const lateMs = (await expired) - started - timeoutMs;
    stalls.forEach(clearTimeout);
    assert.ok(lateMs >= 0, `expired ${-lateMs} ms early`);
    // One tick (10 ms) plus one stall the expiry may fall behind, plus timer slack on a busy machine.
    assert.ok(lateMs < 40 + 10 + 50, `expired ${lateMs.toFixed(1)} ms after the deadline`);
  });

  it('keeps the deadline of an operation added to a list that had gone idle', async () => {
    const scheduler = new DeadlineScheduler();
    await new Promise<void>((resolve) => scheduler.add(50, resolve));
    await new Promise((resolve) => setTimeout(resolve, 300)); // idle: the list's timer stopped
    const started = performance.now();
    await new Promise<void>((resolve) => scheduler.add(50, resolve));
    const tookMs = performance.now() - started;
    assert.ok(tookMs >= 49 && tookMs < 50 + 5 + 50, `took ${tookMs.toFixed(1)} ms for a 50 ms deadline`);
  });

  it('gives an operation added right after the loop was blocked its whole deadline', async () => {
    const scheduler = new DeadlineScheduler();
    let earlierExpired = false;
    scheduler.add(50, () => (earlierExpired = true)); // the list ticks
    await new Promise((resolve) => setTimeout(resolve, 15));
    busy(300); // e.g. a WebAssembly module compiling: no tick runs meanwhile
    const started = performance.now();
    const expiredAfter = await new Promise<number>((resolve) =>
      scheduler.add(50, () => resolve(performance.now() - started)),
    );
    assert.ok(earlierExpired, 'the operation that was waiting through the block expired');
    assert.ok(
      expiredAfter >= 49,
      `expired ${expiredAfter.toFixed(1)} ms after it was added, for a 50 ms deadline`,
    );
  });
  it('runs one operation again after it was removed or expired, its deadline from the new start', async () => {
    const scheduler = new DeadlineScheduler();
    let expiries = 0;
    const op = scheduler.add(50, () => expiries++);
    assert.equal(scheduler.remove(op), true);
    // Removed: put back later, it expires 50 ms after that, not after its first start.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    scheduler.readd(50, op);
    while (expiries === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const tookMs = performance.now() - started;
    assert.ok(tookMs >= 49 && tookMs < 50 + 10 + 50, `took ${tookMs.toFixed(1)} ms for a 50 ms deadline`);
    // Expired: it can be put back again, and removed before its deadline it never fires.
    scheduler.readd(50, op);
    assert.equal(scheduler.remove(op), true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(expiries, 1);
  });
});
