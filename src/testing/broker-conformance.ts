import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { Broker, ReceivedMessage, SubscribeOptions, Subscription } from '../ports/broker.ts';
import { brokerHeaders } from '../runtime/broker/headers.ts';
import { subscribeForSuite, waitUntil, withBrokerFrom } from './broker-conformance-support.ts';
import { rejectsWith, throwsWith } from './infra-assertions.ts';
import { nodeTestApi, type TestApi } from './test-api.ts';

export interface BrokerConformanceOptions {
  name: string;
  create: () => Broker | Promise<Broker>;
  /** How long to wait for deliveries; real brokers need longer for group rebalances. Default 20 s. */
  deliveryTimeoutMs?: number;
  test?: TestApi;
}

/** The delivery semantics every `Broker` adapter must show, run against memory and every real backend. */
export function brokerConformance(options: BrokerConformanceOptions): void {
  const { describe, it } = options.test ?? nodeTestApi;
  const timeoutMs = options.deliveryTimeoutMs ?? 20_000;
  const run = randomUUID().slice(0, 8);
  let counter = 0;
  const topicName = (): string => `conformance-${run}-${++counter}`;

  const waitFor = (what: string, condition: () => boolean): Promise<void> =>
    waitUntil(what, condition, timeoutMs);
  const withBroker = withBrokerFrom(options.create);
  const subscribe = <T>(
    broker: Broker,
    subscriptions: Subscription[],
    topic: string,
    handler: (message: ReceivedMessage<T>, signal: AbortSignal) => Promise<void>,
    opts: SubscribeOptions<T>,
  ): Subscription => subscribeForSuite(broker, subscriptions, topic, handler, opts, timeoutMs);

  describe(`broker conformance: ${options.name}`, () => {
    it(
      'delivers 1,000 keyed messages, each key in order, with handlers running concurrently',
      withBroker(async (broker, subscriptions) => {
        const topic = topicName();
        const seen = new Map<string, number[]>();
        let running = 0;
        let maxRunning = 0;
        const sub = subscribe<{ n: number }>(
          broker,
          subscriptions,
          topic,
          async (message) => {
            running++;
            maxRunning = Math.max(maxRunning, running);
            await sleep(1);
            running--;
            const list = seen.get(message.key!) ?? [];
            list.push(message.value.n);
            seen.set(message.key!, list);
          },
          { group: 'order', concurrency: 8 },
        );
        await sub.ready;
        const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
        const messages = Array.from({ length: 1_000 }, (_, n) => ({
          key: keys[n % keys.length]!,
          value: { n },
        }));
        for (let i = 0; i < messages.length; i += 100)
          await broker.publish(topic, messages.slice(i, i + 100));
        const total = (): number => [...seen.values()].reduce((sum, list) => sum + list.length, 0);
        await waitFor('1,000 messages', () => total() >= 1_000);
        for (const key of keys) {
          const numbers = seen.get(key)!;
          const unique = [...new Set(numbers)];
          assert.deepEqual(
            unique,
            [...unique].sort((a, b) => a - b),
            `order broken for ${key}`,
          );
          assert.equal(unique.length, 50, `${key} lost messages`);
        }
        assert.ok(maxRunning > 1, 'handlers for different keys should run concurrently');
      }),
    );

    it(
      'retries a failing handler with the attempt number, then acknowledges',
      withBroker(async (broker, subscriptions) => {
        const topic = topicName();
        const attempts: number[] = [];
        const deadLetters: unknown[] = [];
        subscribe(
          broker,
          subscriptions,
          `${topic}.dead-letter`,
          (m) => Promise.resolve(void deadLetters.push(m.value)),
          {
            group: 'dlq-watch',
          },
        );
        const sub = subscribe<string>(
          broker,
          subscriptions,
          topic,
          (message) => {
            attempts.push(message.attempt);
            return message.attempt < 3 ? Promise.reject(new Error('not yet')) : Promise.resolve();
          },
          { group: 'retry', maxAttempts: 3 },
        );
        await sub.ready;
        await broker.publish(topic, { value: 'flaky' });
        await waitFor('three attempts', () => attempts.length >= 3);
        await sleep(300);
        assert.deepEqual(attempts, [1, 2, 3]);
        assert.deepEqual(deadLetters, []);
      }),
    );

    it(
      'dead-letters a poison message after maxAttempts, with the error in its headers, while the rest flow',
      withBroker(async (broker, subscriptions) => {
        const topic = topicName();
        const deadLetters: ReceivedMessage<{ n: number }>[] = [];
        const handled: number[] = [];
        const dlq = subscribe<{ n: number }>(
          broker,
          subscriptions,
          `${topic}.dead-letter`,
          (m) => Promise.resolve(void deadLetters.push(m)),
          {
            group: 'dlq-watch',
          },
        );
        const sub = subscribe<{ n: number }>(
          broker,
          subscriptions,
          topic,
          (message) => {
            if (message.value.n === 7) return Promise.reject(new Error('poison: cannot handle 7'));
            handled.push(message.value.n);
            return Promise.resolve();
          },
          { group: 'poison', maxAttempts: 2 },
        );
        await Promise.all([sub.ready, dlq.ready]);
        await broker.publish(
          topic,
          Array.from({ length: 20 }, (_, n) => ({
            key: 'same-key',
            value: { n },
            id: `msg-${n}`,
            headers: { origin: 'test' },
          })),
        );
        await waitFor(
          '19 handled and one dead letter',
          () => handled.length >= 19 && deadLetters.length >= 1,
        );
        assert.deepEqual(
          [...new Set(handled)].sort((a, b) => a - b),
          [...Array.from({ length: 20 }, (_, n) => n).filter((n) => n !== 7)],
        );
        const dead = deadLetters[0]!;
        assert.deepEqual(dead.value, { n: 7 });
        assert.equal(dead.id, 'msg-7');
        assert.equal(dead.key, 'same-key');
        assert.equal(dead.headers.origin, 'test');
        assert.match(dead.headers[brokerHeaders.error] ?? '', /poison: cannot handle 7/);
        assert.equal(dead.headers[brokerHeaders.attempts], '2');
        assert.equal(dead.headers[brokerHeaders.originalTopic], topic);
        // Where it was read, for messages that carry no id: a backend position, split on partitioned backends.
        assert.match(dead.headers[brokerHeaders.originalPosition] ?? '', /\S/);
        const partition = dead.headers[brokerHeaders.originalPartition];
        if (partition !== undefined) {
          assert.match(partition, /^\d+$/);
          assert.match(dead.headers[brokerHeaders.originalOffset] ?? '', /^\d+$/);
        }
      }),
    );

    it(
      'sends a message that fails the subscriber’s schema straight to the dead-letter topic',
      withBroker(async (broker, subscriptions) => {
        const topic = topicName();
        const deadLetters: ReceivedMessage[] = [];
        const handled: unknown[] = [];
        const dlq = subscribe(
          broker,
          subscriptions,
          `${topic}.dead-letter`,
          (m) => Promise.resolve(void deadLetters.push(m)),
          {
            group: 'dlq-watch',
          },
        );
        const sub = subscribe(
          broker,
          subscriptions,
          topic,
          (m) => Promise.resolve(void handled.push(m.value)),
          {
            group: 'schema',
            schema: z.object({ orderId: z.string() }),
          },
        );
        await Promise.all([sub.ready, dlq.ready]);
        await broker.publish(topic, [{ value: { orderId: 42 } }, { value: { orderId: 'A-1' } }]);
        await waitFor('one handled, one dead letter', () => handled.length >= 1 && deadLetters.length >= 1);
        assert.deepEqual(handled, [{ orderId: 'A-1' }]);
        assert.equal(deadLetters[0]!.headers[brokerHeaders.attempts], '0');
        assert.match(deadLetters[0]!.headers[brokerHeaders.error] ?? '', /orderId/);
      }),
    );

    it(
      'gives every group every message',
      withBroker(async (broker, subscriptions) => {
        const topic = topicName();
        const a: number[] = [];
        const b: number[] = [];
        const subA = subscribe<number>(
          broker,
          subscriptions,
          topic,
          (m) => Promise.resolve(void a.push(m.value)),
          { group: 'group-a' },
        );
        const subB = subscribe<number>(
          broker,
          subscriptions,
          topic,
          (m) => Promise.resolve(void b.push(m.value)),
          { group: 'group-b' },
        );
        await Promise.all([subA.ready, subB.ready]);
        await broker.publish(
          topic,
          Array.from({ length: 50 }, (_, n) => ({ key: `k${n % 5}`, value: n })),
        );
        await waitFor('both groups to get 50', () => new Set(a).size >= 50 && new Set(b).size >= 50);
      }),
    );

    it(
      'shares a group’s messages between its members, none lost',
      withBroker(async (broker, subscriptions) => {
        const topic = topicName();
        const first = new Set<string>();
        const second = new Set<string>();
        const slow =
          (set: Set<string>) =>
          async (m: ReceivedMessage): Promise<void> => {
            set.add(m.id);
            await sleep(2);
          };
        const one = subscribe(broker, subscriptions, topic, slow(first), { group: 'shared', concurrency: 4 });
        const two = subscribe(broker, subscriptions, topic, slow(second), {
          group: 'shared',
          concurrency: 4,
        });
        await Promise.all([one.ready, two.ready]);
        const ids = Array.from({ length: 400 }, (_, n) => `id-${n}`);
        await broker.publish(
          topic,
          ids.map((id, n) => ({ id, key: `key-${n % 40}`, value: n })),
        );
        await waitFor('all 400 ids', () => ids.every((id) => first.has(id) || second.has(id)));
        assert.ok(first.size > 0 && second.size > 0, `work not shared: ${first.size} and ${second.size}`);
      }),
    );

    it(
      'stops delivering on close; the group resumes where it stopped',
      withBroker(async (broker, subscriptions) => {
        const topic = topicName();
        const before: number[] = [];
        const sub = subscribe<number>(
          broker,
          subscriptions,
          topic,
          (m) => Promise.resolve(void before.push(m.value)),
          { group: 'closing' },
        );
        await sub.ready;
        await broker.publish(topic, [{ value: 1 }, { value: 2 }]);
        await waitFor('first two', () => before.length >= 2);
        await sub.close();
        await sub.close();
        await broker.publish(topic, [{ value: 3 }, { value: 4 }]);
        await sleep(500);
        assert.deepEqual(before.sort(), [1, 2]);
        const after: number[] = [];
        const again = subscribe<number>(
          broker,
          subscriptions,
          topic,
          (m) => Promise.resolve(void after.push(m.value)),
          { group: 'closing' },
        );
        await again.ready;
        await waitFor('the two published while closed', () => after.length >= 2);
        assert.deepEqual([...new Set(after)].sort(), [3, 4]);
      }),
    );

    it(
      'carries ids, keys, headers and raw bytes',
      withBroker(async (broker, subscriptions) => {
        const topic = topicName();
        const received: ReceivedMessage<Uint8Array>[] = [];
        const sub = subscribe<Uint8Array>(
          broker,
          subscriptions,
          topic,
          (m) => Promise.resolve(void received.push(m)),
          {
            group: 'bytes',
            encoding: 'bytes',
          },
        );
        await sub.ready;
        const payload = Uint8Array.from([0, 1, 2, 254, 255]);
        await broker.publish(
          topic,
          { value: payload, key: 'k', id: 'fixed-id', headers: { trace: 'abc' } },
          { encoding: 'bytes' },
        );
        await broker.publish(topic, { value: Uint8Array.from([9]) }, { encoding: 'bytes' });
        await waitFor('two messages', () => received.length >= 2);
        const first = received.find((m) => m.id === 'fixed-id')!;
        assert.deepEqual([...first.value], [...payload]);
        assert.equal(first.key, 'k');
        assert.equal(first.topic, topic);
        assert.equal(first.headers.trace, 'abc');
        const second = received.find((m) => m.id !== 'fixed-id')!;
        assert.match(second.id, /^[0-9a-f-]{36}$/, 'an id is assigned when absent');
        assert.equal(second.key, undefined);
      }),
    );

    it(
      'rejects bad input with validation before any I/O',
      withBroker(async (broker, subscriptions) => {
        const topic = topicName();
        const schema = z.object({ orderId: z.string() });
        await rejectsWith(
          broker.publish(topic, { value: { orderId: 1 } as unknown as { orderId: string } }, { schema }),
          'validation',
        );
        await rejectsWith(broker.publish('', { value: 1 }), 'validation');
        await rejectsWith(broker.publish('bad topic name!', { value: 1 }), 'validation');
        await rejectsWith(broker.publish(topic, { value: undefined }), 'validation');
        await rejectsWith(broker.publish(topic, { value: 1, key: 5 as unknown as string }), 'validation');
        await rejectsWith(broker.publish(topic, { value: 'x'.repeat(2 * 1024 * 1024) }), 'validation');
        await rejectsWith(broker.publish(topic, { value: 'not bytes' }, { encoding: 'bytes' }), 'validation');
        throwsWith(() => broker.subscribe(topic, () => Promise.resolve(), { group: '' }), 'validation');
        throwsWith(
          () => broker.subscribe(topic, () => Promise.resolve(), { group: 'spaces are bad' }),
          'validation',
        );
        throwsWith(
          () => broker.subscribe(topic, () => Promise.resolve(), { group: 'g', concurrency: 0 }),
          'validation',
        );
        // Nothing was published: a fresh group reading from the beginning sees nothing.
        const seen: unknown[] = [];
        const sub = subscribe(broker, subscriptions, topic, (m) => Promise.resolve(void seen.push(m.value)), {
          group: 'after-bad-input',
        });
        await sub.ready;
        await broker.publish(topic, { value: 'the only one' });
        await waitFor('one message', () => seen.length >= 1);
        await sleep(200);
        assert.deepEqual(seen, ['the only one']);
      }),
    );

    it(
      'reports health with its subscriptions, and refuses work after close',
      withBroker(async (broker, subscriptions) => {
        const topic = topicName();
        const sub = subscribe(broker, subscriptions, topic, () => Promise.resolve(), { group: 'health' });
        await sub.ready;
        const health = await broker.health();
        assert.equal(health.status, 'up', health.error);
        const listed = health.details?.subscriptions as { topic: string; state: string }[];
        assert.deepEqual(
          listed.map((s) => [s.topic, s.state]),
          [[topic, 'running']],
        );
        await sub.close();
        await broker.close();
        await broker.close();
        await rejectsWith(broker.publish(topic, { value: 1 }), 'closed');
        assert.equal((await broker.health()).status, 'down');
      }),
    );
  });
}
