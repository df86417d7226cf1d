// Issue #15, defect 2: a refused connection is known at once, so the first call against a port
// where nothing listens must fail as `unavailable` within a few hundred ms, not time out; and the
// same adapter objects must work once a Redis listens there, without a restart.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createRedisBroker,
  createRedisCache,
  type RedisBroker,
  type RedisCache,
} from '../../src/adapters/redis/index.ts';
import { rejectsWith } from '../../src/testing/infra-assertions.ts';
import { freePort } from '../support/ports.ts';
import { silentRuntime } from '../support/runtime.ts';
import { redisServerBinary, startRedisServer, type RedisServerProcess } from '../support/redis-cluster.ts';
import { waitFor } from '../support/wait.ts';

const binary = await redisServerBinary();
// Unreachable within a few hundred ms; the bound leaves room for a loaded 2-core machine.
const failFastMs = 1_500;
// The clients reconnect until Redis listens: a call that fails meanwhile counts as not yet.
const reconnecting = { everyMs: 50, ignoreErrors: true };

async function timed<T>(promise: Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await promise;
  return { result, ms: performance.now() - started };
}

describe('redis against a port where nothing listens', { skip: binary.skip ?? false }, () => {
  let port: number;
  let cache: RedisCache;
  let broker: RedisBroker;
  let server: RedisServerProcess | undefined;

  before(async () => {
    port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    cache = createRedisCache({ url, keyPrefix: `unreachable:${process.pid}:` }, silentRuntime());
    broker = createRedisBroker({ url, streamPrefix: `unreachable:${process.pid}:` }, silentRuntime());
  });

  after(async () => {
    await cache?.close();
    await broker?.close();
    await server?.stop();
  });

  it('cache.get fails as unavailable at once, and so does the next call', async () => {
    const first = await timed(rejectsWith(cache.get('key'), 'unavailable'));
    const second = await timed(rejectsWith(cache.get('key'), 'unavailable'));
    console.log(
      `cache.get on a closed port: unavailable after ${first.ms.toFixed(0)} ms, then ${second.ms.toFixed(0)} ms`,
    );
    assert.ok(first.ms < failFastMs, `first call took ${first.ms.toFixed(0)} ms`);
    assert.ok(second.ms < failFastMs, `second call took ${second.ms.toFixed(0)} ms`);
  });

  it('publish fails as unavailable at once', async () => {
    const { ms } = await timed(rejectsWith(broker.publish('orders', { value: { id: 1 } }), 'unavailable'));
    console.log(`publish on a closed port: unavailable after ${ms.toFixed(0)} ms`);
    assert.ok(ms < failFastMs, `publish took ${ms.toFixed(0)} ms`);
  });

  it('a cluster client whose nodes all refuse fails as unavailable at once too', async () => {
    const clusterCache = createRedisCache({ cluster: { nodes: [`127.0.0.1:${port}`] } }, silentRuntime());
    try {
      const { ms } = await timed(rejectsWith(clusterCache.get('key'), 'unavailable'));
      console.log(`cluster cache.get with every node refusing: unavailable after ${ms.toFixed(0)} ms`);
      assert.ok(ms < failFastMs, `cluster get took ${ms.toFixed(0)} ms`);
    } finally {
      await clusterCache.close();
    }
  });

  it('reports itself down at once', async () => {
    const { result, ms } = await timed(cache.health());
    assert.equal(result.status, 'down');
    assert.ok(ms < failFastMs, `health took ${ms.toFixed(0)} ms`);
  });

  it('the same cache and broker work once a Redis listens on that port, without a restart', async () => {
    server = await startRedisServer(binary.path!, port);
    const cacheMs = await waitFor(
      'the cache reads back what it wrote',
      async () => {
        await cache.set('key', 'value');
        return (await cache.get('key')) === 'value';
      },
      10_000,
      reconnecting,
    );
    const brokerMs = await waitFor(
      'the broker publishes',
      () => broker.publish('orders', { value: { id: 2 } }).then(() => true),
      10_000,
      reconnecting,
    );
    console.log(
      `after Redis started: cache works in ${cacheMs.toFixed(0)} ms, broker in ${brokerMs.toFixed(0)} ms`,
    );
    assert.equal((await cache.health()).status, 'up');
    // Only the publish that succeeded is in the stream: the refused one was never sent later.
    const stream = `unreachable:${process.pid}:orders`;
    assert.equal(await broker.client().xLen(stream), 1);
  });
});

describe(
  'redis whose first connection is slow (a proxy that holds it for a second)',
  {
    skip: binary.skip ?? false,
  },
  () => {
    it('a write that timed out while waiting for the connection is not sent once it comes', async () => {
      const server = await startRedisServer(binary.path!, await freePort());
      // Holds each connection (and what the client sends on it) a second before it reaches Redis.
      const slow = net.createServer((socket) => {
        socket.pause();
        setTimeout(() => {
          const upstream = net.connect(server.port, '127.0.0.1', () => {
            socket.pipe(upstream).pipe(socket);
            socket.resume();
          });
          upstream.on('error', () => socket.destroy());
          socket.on('error', () => upstream.destroy());
        }, 1_000);
      });
      await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
      const { port } = slow.address() as net.AddressInfo;
      const cache = createRedisCache(
        { url: `redis://127.0.0.1:${port}`, keyPrefix: `late:${process.pid}:`, policies: { timeoutMs: 300 } },
        silentRuntime(),
      );
      try {
        await rejectsWith(cache.set('written-late', 'x'), 'timeout');
        await waitFor(
          'the cache answers',
          async () => (await cache.get('probe')) === undefined,
          15_000,
          reconnecting,
        );
        await sleep(200);
        assert.equal(await cache.get('written-late'), undefined, 'the timed-out set was sent after all');
      } finally {
        await cache.close();
        await server.stop();
        slow.close();
      }
    });
  },
);
