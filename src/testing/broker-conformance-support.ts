// Helpers of the broker suite: waiting for deliveries, and subscribing as every case does.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Broker, ReceivedMessage, SubscribeOptions, Subscription } from '../ports/broker.ts';

/** Polls `condition` every 20 ms; fails the test naming `what` after `timeoutMs`. */
export async function waitUntil(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Subscribes from the beginning with short retry delays, recording the subscription to close it. */
export function subscribeForSuite<T>(
  broker: Broker,
  subscriptions: Subscription[],
  topic: string,
  handler: (message: ReceivedMessage<T>, signal: AbortSignal) => Promise<void>,
  opts: SubscribeOptions<T>,
  timeoutMs: number,
): Subscription {
  const subscription = broker.subscribe(topic, handler, {
    fromBeginning: true,
    retryDelayMs: { initial: 10, max: 50 },
    // Group joins on a busy machine may take longer than the default 15 s.
    readyTimeoutMs: timeoutMs,
    ...opts,
  });
  subscriptions.push(subscription);
  return subscription;
}

/** Runs a case on a new broker, closing its subscriptions and then the broker whatever happens. */
export const withBrokerFrom =
  (create: () => Broker | Promise<Broker>) =>
  (fn: (broker: Broker, subscriptions: Subscription[]) => Promise<void>) =>
  async (): Promise<void> => {
    const broker = await create();
    const subscriptions: Subscription[] = [];
    try {
      await fn(broker, subscriptions);
    } finally {
      await Promise.all(subscriptions.map((s) => s.close()));
      await broker.close();
    }
  };
