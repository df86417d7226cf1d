import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { canProvide } from '../servers/services.ts';
import { createKafkaBroker, type KafkaBroker } from '../../src/adapters/kafka/index.ts';
import { HealthChecker } from '../../src/health/index.ts';
import { ownService } from '../support/own-service.ts';
import { silentRuntime } from '../support/runtime.ts';

// A Kafka of this test's own, so stopping it disturbs no other test.
const { port, services } = await ownService('kafka');

const skip =
  canProvide('kafka') || process.env.CI === 'true'
    ? false
    : 'this machine cannot run Kafka locally (Java and Maven are needed): the test stops and restarts a Kafka of its own';

describe('kafka broker through a server outage', { skip }, () => {
  let broker: KafkaBroker | undefined;
  after(async () => {
    await broker?.close();
    await services('down', 'kafka');
  });

  it('loses no message when Kafka stops and returns mid-stream; readiness follows the outage', async () => {
    const brokers = /KAFKA_BROKERS=(\S+)/.exec(await services('up', 'kafka'))?.[1];
    assert.ok(brokers, 'the services script printed KAFKA_BROKERS');
    broker = createKafkaBroker(
      { brokers: brokers.split(','), policies: { timeoutMs: 2_000, breaker: { halfOpenAfterMs: 1_000 } } },
      silentRuntime(),
    );
    const health = new HealthChecker({ cacheTtlMs: 0 });
    health.register('kafka', broker, { timeoutMs: 3_000 });
    health.markStarted();

    const topic = `fault-${port}`;
    const deliveries = new Map<string, number>();
    const subscription = broker.subscribe<{ n: number }>(
      topic,
      (message) => {
        deliveries.set(message.id, (deliveries.get(message.id) ?? 0) + 1);
        return Promise.resolve();
      },
      { group: 'fault', fromBeginning: true, concurrency: 8 },
    );
    await subscription.ready;
    assert.equal((await health.readiness()).status, 'up');

    // Publishing runs until told to stop; the outage is ended only once a publish has failed, so
    // the test always publishes into a broker that is known to be down, however fast the machine.
    const published: string[] = [];
    let publishFailures = 0;
    let stopPublishing = false;
    const publishAll = async (): Promise<void> => {
      for (let i = 0; !stopPublishing; i += 50) {
        const chunk = Array.from({ length: 50 }, (_, j) => ({
          id: `m-${i + j}`,
          key: `k-${(i + j) % 100}`,
          value: { n: i + j },
        }));
        // An application retries a publish that failed: at-least-once starts at the producer.
        for (;;) {
          try {
            await broker!.publish(topic, chunk);
            break;
          } catch {
            publishFailures++;
            await sleep(200);
          }
        }
        published.push(...chunk.map((message) => message.id));
        await sleep(50);
      }
    };
    const publishing = publishAll();
    const waitFor = async (
      what: string,
      done: () => boolean | Promise<boolean>,
      ms: number,
    ): Promise<void> => {
      const started = Date.now();
      while (!(await done())) {
        assert.ok(Date.now() - started < ms, `${what} within ${ms} ms`);
        await sleep(100);
      }
    };

    await waitFor('500 messages published before the outage', () => published.length >= 500, 60_000);
    await services('down', 'kafka');
    let sawDown = false;
    await waitFor(
      'a publish failed and readiness went down while Kafka was stopped',
      async () => {
        sawDown ||= (await health.readiness()).status === 'down';
        return sawDown && publishFailures > 0;
      },
      60_000,
    );
    const publishedDuringOutage = published.length;
    await services('up', 'kafka');
    await waitFor(
      '500 messages published after the restart',
      () => published.length >= publishedDuringOutage + 500,
      120_000,
    );
    stopPublishing = true;
    await publishing;

    const total = published.length;
    const started = Date.now();
    while (published.some((id) => !deliveries.has(id))) {
      assert.ok(Date.now() - started < 180_000, `only ${deliveries.size} of ${total} ids consumed`);
      await sleep(250);
    }
    const duplicates = [...deliveries.values()].reduce((sum, count) => sum + count - 1, 0);
    let up = false;
    for (let i = 0; i < 60 && !up; i++) {
      up = (await health.readiness()).status === 'up';
      if (!up) await sleep(500);
    }
    process.stderr.write(
      `kafka outage: ${total} ids consumed, ${duplicates} duplicate deliveries, ${publishFailures} publish calls retried\n`,
    );
    assert.ok(up, 'readiness came back up after the outage');
    await subscription.close();
  });
});
