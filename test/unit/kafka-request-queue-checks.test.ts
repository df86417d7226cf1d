// Issue #25: kafkajs scheduled a pending-request check with a negative delay (-1 - Date.now())
// after every answer, warned about by Node 24 and repeated every 1 ms for a connection's life.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, describe, it } from 'node:test';
import { stopIdleRequestChecks } from '../../src/adapters/kafka/request-queue-checks.ts';

interface Queue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  scheduleCheckPendingRequests(): void;
  checkPendingRequests(): void;
  destroy(): void;
}
const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as new (
  options: Record<string, unknown>,
) => Queue;
const logger = {
  debug: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  info: () => undefined,
};
const queues: Queue[] = [];
const queue = (): Queue => {
  const made = new RequestQueue({ clientId: 'test', broker: 'localhost:1', logger, requestTimeout: 1_000 });
  queues.push(made);
  return made;
};
const negativeTimeouts: string[] = [];
const onWarning = (warning: Error): void => {
  if (warning.name === 'TimeoutNegativeWarning') negativeTimeouts.push(warning.message);
};
process.on('warning', onWarning);

describe("kafkajs's request queue checks", () => {
  after(() => {
    for (const made of queues) made.destroy();
    process.off('warning', onWarning);
  });

  it('as kafkajs ships it, an answer with nothing pending schedules a check with a negative delay', () => {
    const plain = queue();
    plain.checkPendingRequests();
    assert.notEqual(plain.throttleCheckTimeoutId, null, 'a check was scheduled with nothing pending');
  });

  it('schedules no check when nothing is pending and nothing throttled, and warns of no negative timeout', async () => {
    stopIdleRequestChecks();
    const idle = queue();
    idle.checkPendingRequests();
    assert.equal(idle.throttleCheckTimeoutId, null);
    await new Promise((resolve) => setImmediate(resolve));
    // The first test's timer may have warned before the fix (once per process); none since.
    const before = negativeTimeouts.length;
    queue().checkPendingRequests();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(negativeTimeouts.length, before);
  });

  it('still schedules a check for a pending request and for a throttle that has not ended', () => {
    stopIdleRequestChecks();
    const waiting = queue();
    waiting.pending.push({});
    waiting.scheduleCheckPendingRequests();
    assert.notEqual(waiting.throttleCheckTimeoutId, null);
    waiting.pending.length = 0;
    const throttled = queue();
    throttled.throttledUntil = Date.now() + 5_000;
    throttled.scheduleCheckPendingRequests();
    assert.notEqual(throttled.throttleCheckTimeoutId, null);
  });
});
