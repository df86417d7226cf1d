// Issue #24, on both Kafka drivers: a Kafka broker lost after the producer connected makes publishes fail as
// `unavailable` within the attempt deadline (not `timeout` once kafkajs's own retries ran out)
// and health `down`; both recover when it returns. A Kafka node of its own, advertised at a TCP
// proxy: kafkajs connects where the metadata says, so the proxy carries every connection, and a
// cut shows what stopping Kafka shows (reset connections, none accepted), in milliseconds.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createKafkaBroker } from '../../src/adapters/kafka/index.ts';
import { createPlatformaticKafkaBroker } from '../../src/adapters/platformatic-kafka/index.ts';
import { isInfraError, type Broker } from '../../src/ports/index.ts';
import { canProvide } from '../servers/services.ts';
import { createTcpProxy, type TcpProxy } from '../servers/fakes/tcp-proxy.ts';
import { ownService, type OwnService } from '../support/own-service.ts';
import { silentRuntime } from '../support/runtime.ts';
import { waitFor } from '../support/wait.ts';

const skip =
  canProvide('kafka') || process.env['CI'] === 'true'
    ? false
    : 'this machine cannot run Kafka locally (Java and Maven are needed): the test runs a Kafka of its own';

const timeoutMs = 2_000;
const drivers = { kafkajs: createKafkaBroker, 'platformatic-kafka': createPlatformaticKafkaBroker };

interface Outcome {
  reason: string;
  elapsedMs: number;
}

async function publishOutcome(broker: Broker, topic: string, n: number): Promise<Outcome> {
  const started = performance.now();
  let reason = 'ok';
  try {
    await broker.publish(topic, { key: `k${n % 10}`, value: { n } });
  } catch (error) {
    reason = isInfraError(error) ? error.reason : `not an InfraError: ${String(error)}`;
  }
  return { reason, elapsedMs: Math.round(performance.now() - started) };
}

describe('kafka broker lost after connecting', { skip }, () => {
  const target = { host: '127.0.0.1', port: 0 };
  let proxy: TcpProxy | undefined;
  let node: OwnService | undefined;
  before(async () => {
    // The node must know the port it advertises before it starts; the proxy reads `target.port`
    // at each connection, so it learns the node's port afterwards.
    proxy = await createTcpProxy(target);
    process.env['BERTH_KAFKA_ADVERTISED_PORT'] = String(proxy.port);
    node = await ownService('kafka').finally(() => delete process.env['BERTH_KAFKA_ADVERTISED_PORT']);
    target.port = node.port;
    await node.services('up', 'kafka');
  });
  after(async () => {
    await proxy?.close();
    if (node !== undefined) {
      await node.services('down', 'kafka');
      fs.rmSync(node.stateDir, { recursive: true, force: true });
    }
  });

  for (const [driver, create] of Object.entries(drivers))
    it(`${driver}: publishes fail as unavailable within the deadline and health is down; both recover when it returns`, async () => {
      assert.ok(proxy !== undefined);
      const broker = create(
        {
          brokers: [`${proxy.host}:${proxy.port}`],
          // No open circuit: each publish shows how it failed by itself.
          policies: { timeoutMs, breaker: { consecutiveFailures: 1_000_000 } },
        },
        silentRuntime(),
      );
      try {
        const topic = `lost-${driver}`;
        assert.deepEqual(await publishOutcome(broker, topic, 0).then((o) => o.reason), 'ok');
        assert.equal((await broker.health()).status, 'up');

        proxy.cut();
        // One at a time, then 20 at once (gathered into one request, and the next ones behind it).
        const outcomes: Outcome[] = [];
        for (let n = 1; n <= 5; n++) outcomes.push(await publishOutcome(broker, topic, n));
        outcomes.push(
          ...(await Promise.all(Array.from({ length: 20 }, (_, i) => publishOutcome(broker, topic, 10 + i)))),
        );
        const slowestMs = Math.max(...outcomes.map((o) => o.elapsedMs));
        process.stderr.write(
          `${driver}: broker lost: ${outcomes.length} publishes, reasons ${[...new Set(outcomes.map((o) => o.reason))].join(',')}, ` +
            `${Math.min(...outcomes.map((o) => o.elapsedMs))}–${slowestMs} ms (deadline ${timeoutMs} ms)\n`,
        );
        assert.deepEqual(
          outcomes.filter((o) => o.reason !== 'unavailable'),
          [],
          'every publish fails as unavailable',
        );
        assert.ok(slowestMs < timeoutMs / 2, `the slowest failed in ${slowestMs} ms`);
        assert.equal((await broker.health()).status, 'down');

        proxy.restore();
        const recoveredMs = await waitFor(
          'a publish succeeds after the broker returned',
          async () => (await publishOutcome(broker, topic, 99)).reason === 'ok',
          30_000,
        );
        await waitFor('health up again', async () => (await broker.health()).status === 'up', 10_000);
        process.stderr.write(
          `${driver}: broker back: a publish succeeded ${Math.round(recoveredMs)} ms after the restore\n`,
        );
      } finally {
        proxy.restore();
        await broker.close();
      }
    });
});
