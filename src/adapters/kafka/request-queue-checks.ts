// kafkajs 2.2.4 schedules a check of its pending requests after every answer, even when none is
// pending and none throttled: the delay is `throttledUntil` (-1) minus `Date.now()`, which Node 24
// prints as `TimeoutNegativeWarning: -17… is a negative number` and runs after 1 ms, and the check
// schedules itself again: a 1 ms timer per broker connection for as long as it lives (upstream
// tulios/kafkajs#1751 and #1704, fixes unreleased). berth passes no duration there.
import { createRequire } from 'node:module';

interface RequestQueue {
  pending: readonly unknown[];
  throttledUntil: number;
  scheduleCheckPendingRequests: (this: RequestQueue) => void;
}

let checked = false;

/**
 * Makes kafkajs's request queues schedule a check only when a request waits or a throttle is
 * still running; a request queued later schedules its own check, an answer checks at once. Done
 * once per process, on the kafkajs that berth resolves; a layout it does not know is left alone.
 */
export function stopIdleRequestChecks(): void {
  if (checked) return;
  checked = true;
  let queue: { prototype: RequestQueue } | undefined;
  try {
    queue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as {
      prototype: RequestQueue;
    };
  } catch {
    return;
  }
  const schedule = queue.prototype.scheduleCheckPendingRequests;
  if (typeof schedule !== 'function') return;
  queue.prototype.scheduleCheckPendingRequests = function (this: RequestQueue): void {
    if (this.pending.length === 0 && !(this.throttledUntil > Date.now())) return;
    schedule.call(this);
  };
}
