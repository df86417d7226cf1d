// berth_messaging_consumer_lag_messages against real backends: a consumer held inside its first
// handler while messages are published, then let go.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createKafkaBroker } from '../../src/adapters/kafka/index.ts';
import { createRedisBroker } from '../../src/adapters/redis/index.ts';
import type { Broker } from '../../src/ports/index.ts';
import { createLogger, createRuntime, semconv, type Runtime } from '../../src/runtime/index.ts';
import { findKafka, findRedis } from '../support/servers.ts';
import { waitFor } from '../support/wait.ts';

const kafka = await findKafka();
const redis = await findRedis();

function runtimeOf(registry: Registry): Runtime {
  return createRuntime({ logger: createLogger({ level: 'silent' }), registry });
}

/** The lag the gauge reports for a topic and group, summed over partitions; undefined when absent. */
async function lagOf(registry: Registry, topic: string, group: string): Promise<number | undefined> {
  const metric = registry.getSingleMetric(semconv.messagingConsumerLag.name);
  assert.ok(metric, 'the lag gauge is registered');
  const { values } = await metric.get();
  const ours = values.filter(
    (value) =>
      value.labels.messaging_destination_name === topic &&
      value.labels.messaging_consumer_group_name === group,
  );
  return ours.length === 0 ? undefined : ours.reduce((sum, value) => sum + value.value, 0);
}

async function waitForLag(
  registry: Registry,
  topic: string,
  group: string,
  accept: (lag: number) => boolean,
  withinMs: number,
): Promise<number> {
  let last: number | undefined;
  await waitFor(
    'consumer lag accepted',
    async () => {
      last = await lagOf(registry, topic, group);
      return last !== undefined && accept(last);
    },
    withinMs,
    // The gauge asks the backend at most once a second.
    { everyMs: 1_100, saw: () => `last read ${last}` },
  );
  return last!;
}

/** Holds the subscription's handlers until `release()`; counts what they handled. */
function heldHandler() {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const state = { handled: 0 };
  return {
    state,
    release: () => release(),
    handler: async (): Promise<void> => {
      await gate;
      state.handled++;
    },
  };
}

async function publishMany(broker: Broker, topic: string, count: number): Promise<void> {
  const messages = Array.from({ length: count }, (_, i) => ({ key: `k${i % 30}`, value: { i } }));
  for (let i = 0; i < count; i += 100) await broker.publish(topic, messages.slice(i, i + 100));
}

describe('consumer lag on Kafka', { skip: 'skip' in kafka ? kafka.skip : false, timeout: 240_000 }, () => {
  it('reads 1,000 while the consumer is held, and falls to 0 once it resumes', async () => {
    assert.ok(!('skip' in kafka));
    const registry = new Registry();
    const broker = createKafkaBroker(
      { brokers: kafka.brokers, clientId: 'berth-lag-test' },
      runtimeOf(registry),
    );
    const topic = `lag-${randomUUID().slice(0, 8)}`;
    const group = `lag-group-${randomUUID().slice(0, 8)}`;
    const held = heldHandler();
    try {
      const subscription = broker.subscribe(topic, held.handler, {
        group,
        concurrency: 4,
        handlerTimeoutMs: 120_000,
      });
      await subscription.ready;
      await publishMany(broker, topic, 1_000);
      // Nothing is committed while the first batches wait in their handlers.
      const lag = await waitForLag(registry, topic, group, (value) => value >= 990, 60_000);
      assert.ok(lag <= 1_000, `lag ${lag} is more than was published`);
      held.release();
      await waitForLag(registry, topic, group, (value) => value === 0, 120_000);
      assert.equal(held.state.handled, 1_000);
    } finally {
      held.release();
      await broker.close();
    }
  });
});

describe(
  'consumer lag on Redis Streams',
  { skip: 'skip' in redis ? redis.skip : false, timeout: 120_000 },
  () => {
    it("reads the group's unread and unacknowledged entries, and 0 once handled", async () => {
      assert.ok(!('skip' in redis));
      const registry = new Registry();
      const broker = createRedisBroker({ url: redis.url }, runtimeOf(registry));
      const topic = `lag-${randomUUID().slice(0, 8)}`;
      const group = 'lag-group';
      const held = heldHandler();
      try {
        const subscription = broker.subscribe(topic, held.handler, { group, handlerTimeoutMs: 60_000 });
        await subscription.ready;
        await publishMany(broker, topic, 300);
        assert.equal(await waitForLag(registry, topic, group, (value) => value === 300, 30_000), 300);
        held.release();
        await waitForLag(registry, topic, group, (value) => value === 0, 60_000);
        assert.equal(held.state.handled, 300);
      } finally {
        held.release();
        await broker.close();
      }
    });
  },
);
