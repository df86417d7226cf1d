import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKafkaBroker } from '../../src/adapters/kafka/index.ts';
import { createMongoBroker, createMongoDocumentStore } from '../../src/adapters/mongodb/index.ts';
import { createRedisBroker } from '../../src/adapters/redis/index.ts';
import { isInfraError, type Broker, type ErrorReason } from '../../src/ports/index.ts';
import { freePort } from '../support/ports.ts';
import { capturingRuntime, silentRuntime } from '../support/runtime.ts';
import { findKafka, findMongo } from '../support/servers.ts';

// No server is needed: each broker is pointed at a port nothing listens on (freePort).

/** A server that accepts connections and never answers: a hung backend. */
async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** How `promise` settled within `ms`, and when; 'pending' if it had not. */
async function settleWithin(
  promise: Promise<unknown>,
  ms: number,
): Promise<{ outcome: 'resolved' | 'rejected' | 'pending'; error?: unknown; elapsedMs: number }> {
  const started = performance.now();
  const timer = new AbortController();
  const outcome = await Promise.race([
    promise.then(
      () => ({ outcome: 'resolved' as const }),
      (error: unknown) => ({ outcome: 'rejected' as const, error }),
    ),
    sleep(ms, { outcome: 'pending' as const }, { signal: timer.signal }),
  ]);
  timer.abort();
  return { ...outcome, elapsedMs: Math.round(performance.now() - started) };
}

function assertReason(error: unknown, reason: ErrorReason): void {
  assert.ok(isInfraError(error), `not an InfraError: ${String(error)}`);
  assert.equal(error.reason, reason, error.message);
}

const backends: { name: string; create: (port: number) => Broker }[] = [
  {
    name: 'kafka',
    // kafkajs's disconnect waits for requests in flight: a silent server's must not hold close() for 10 s.
    create: (port) =>
      createKafkaBroker({ brokers: [`127.0.0.1:${port}`], requestTimeoutMs: 2_000 }, silentRuntime()),
  },
  {
    name: 'redis streams',
    create: (port) => createRedisBroker({ url: `redis://127.0.0.1:${port}` }, silentRuntime()),
  },
  {
    name: 'mongodb',
    create: (port) =>
      createMongoBroker(
        { url: `mongodb://127.0.0.1:${port}/`, database: 'berth_unreachable' },
        silentRuntime(),
      ),
  },
];

describe('a broker whose server is unreachable', () => {
  for (const backend of backends) {
    it(`${backend.name}: a refused connection rejects ready with unavailable at once; health says down; close() stops it`, async () => {
      const broker = backend.create(await freePort());
      try {
        // The default readyTimeoutMs is 15 s: a refusal must not wait for it.
        const subscription = broker.subscribe('orders', () => Promise.resolve(), { group: 'g' });
        const ready = await settleWithin(subscription.ready, 2_000);
        assert.equal(ready.outcome, 'rejected', `ready was ${ready.outcome} after ${ready.elapsedMs} ms`);
        assertReason(ready.error, 'unavailable');

        const health = await broker.health();
        const listed = health.details?.['subscriptions'] as { status: string; topic: string }[];
        assert.deepEqual(
          listed.map((s) => [s.topic, s.status]),
          [['orders', 'down']],
        );
        assert.equal(health.status, 'down');

        const closing = performance.now();
        await subscription.close();
        assert.ok(performance.now() - closing < 2_000, 'close() does not wait for a restart');
      } finally {
        await broker.close();
      }
    });

    it(`${backend.name}: a server that never answers rejects ready with unavailable once readyTimeoutMs passed`, async () => {
      const silent = await silentServer();
      const broker = backend.create(silent.port);
      try {
        const readyTimeoutMs = 1_000;
        const subscription = broker.subscribe('orders', () => Promise.resolve(), {
          group: 'g',
          readyTimeoutMs,
        });
        const ready = await settleWithin(subscription.ready, readyTimeoutMs + 2_000);
        assert.equal(ready.outcome, 'rejected', `ready was ${ready.outcome} after ${ready.elapsedMs} ms`);
        assertReason(ready.error, 'unavailable');
        assert.match((ready.error as Error).message, /readyTimeoutMs/);
        const listed = (await broker.health()).details?.['subscriptions'] as { status: string }[];
        assert.equal(listed[0]?.status, 'down');
        await subscription.close();
      } finally {
        await broker.close();
        await silent.close();
      }
    });
  }

  // Redis's refused connections belong to its own test (redis-unreachable.test.ts).
  for (const backend of backends.filter((b) => b.name !== 'redis streams')) {
    it(`${backend.name}: publish fails as unavailable at once, not after a timeout`, async () => {
      const broker = backend.create(await freePort());
      try {
        const published = await settleWithin(broker.publish('orders', { value: { n: 1 } }), 5_000);
        assert.equal(published.outcome, 'rejected');
        assertReason(published.error, 'unavailable');
        assert.ok(published.elapsedMs < 1_500, `publish took ${published.elapsedMs} ms to fail`);
      } finally {
        await broker.close();
      }
    });
  }

  it('mongodb document store: a read fails as unavailable at once', async () => {
    const store = createMongoDocumentStore(
      { url: `mongodb://127.0.0.1:${await freePort()}/`, database: 'berth_unreachable' },
      silentRuntime(),
    );
    try {
      const read = await settleWithin(store.collection('orders').get('a'), 5_000);
      assert.equal(read.outcome, 'rejected');
      assertReason(read.error, 'unavailable');
      assert.ok(read.elapsedMs < 1_500, `get took ${read.elapsedMs} ms to fail`);
    } finally {
      await store.close();
    }
  });

  it('the supervisor keeps restarting after ready rejected, and stops on close()', async () => {
    const runtime = capturingRuntime();
    const broker = createMongoBroker(
      { url: `mongodb://127.0.0.1:${await freePort()}/`, database: 'berth_unreachable' },
      runtime,
    );
    try {
      const subscription = broker.subscribe('orders', () => Promise.resolve(), {
        group: 'g',
        readyTimeoutMs: 1_000,
      });
      await assert.rejects(subscription.ready);
      const attempts = (): number => runtime.logs().split('subscription could not start').length - 1;
      const atReady = attempts();
      // Restarts back off from 200 ms: several more within 3 s, past the 1 s deadline.
      await sleep(3_000);
      assert.ok(attempts() > atReady + 1, `no restart after ready rejected (${atReady} then ${attempts()})`);
      await subscription.close();
      const atClose = attempts();
      await sleep(1_500);
      assert.equal(attempts(), atClose, 'a closed subscription does not restart');
    } finally {
      await broker.close();
    }
  });
});

/** Starts forwarding `port` (where nothing listened so far) to `target`: the backend comes up there. */
async function forward(port: number, target: string): Promise<net.Server> {
  const [host, targetPort] = target.split(':') as [string, string];
  const server = net.createServer((socket) => {
    const upstream = net.connect(Number(targetPort), host);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

const kafka = await findKafka();
const mongo = await findMongo();

describe('a backend that comes up after berth started', () => {
  it(
    'kafka: a subscription consumes once the broker answers, after its ready rejected',
    {
      skip: 'skip' in kafka ? kafka.skip : false,
    },
    async () => {
      assert.ok(!('skip' in kafka));
      const port = await freePort();
      const broker = createKafkaBroker({ brokers: [`127.0.0.1:${port}`] }, silentRuntime());
      const topic = `late-broker-${randomUUID()}`;
      const received: unknown[] = [];
      let forwarder: net.Server | undefined;
      try {
        const subscription = broker.subscribe(topic, (m) => Promise.resolve(void received.push(m.value)), {
          group: 'late',
          fromBeginning: true,
          readyTimeoutMs: 1_000,
        });
        await assert.rejects(subscription.ready, (error: unknown) => {
          assertReason(error, 'unavailable');
          return true;
        });
        // The broker then advertises its own address, which the clients use from there on.
        forwarder = await forward(port, kafka.brokers[0]!);
        await broker.publish(topic, { value: 'after the outage' }, { timeoutMs: 30_000 });
        const started = Date.now();
        while (received.length === 0 && Date.now() - started < 60_000) await sleep(100);
        assert.deepEqual(received, ['after the outage']);
        const listed = (await broker.health()).details?.['subscriptions'] as { status: string }[];
        assert.equal(listed[0]?.status, 'up');
      } finally {
        await broker.close();
        forwarder?.close();
      }
    },
  );

  it(
    'mongodb: calls succeed once the server answers, after refusals that failed at once',
    {
      skip: 'skip' in mongo ? mongo.skip : false,
    },
    async () => {
      assert.ok(!('skip' in mongo));
      const port = await freePort();
      const broker = createMongoBroker(
        { url: `mongodb://127.0.0.1:${port}/`, database: 'berth_unreachable' },
        silentRuntime(),
      );
      let forwarder: net.Server | undefined;
      try {
        await assert.rejects(broker.publish('late', { value: 1 }), (error: unknown) => {
          assertReason(error, 'unavailable');
          return true;
        });
        forwarder = await forward(port, new URL(mongo.url).host);
        const started = Date.now();
        for (;;) {
          try {
            await broker.publish('late', { value: 2 });
            break;
          } catch (error) {
            if (Date.now() - started > 15_000) throw error;
            await sleep(200);
          }
        }
      } finally {
        await broker.close();
        forwarder?.close();
      }
    },
  );
});
