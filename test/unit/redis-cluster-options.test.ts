import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorReply, MaxCommandRedirectionsError, RootNodesUnavailableError } from 'redis';
import { classifyRedisError, createRedisBroker, createRedisCache } from '../../src/adapters/redis/index.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { ConfigError, Redacted } from '../../src/ports/index.ts';
import { silentRuntime } from '../support/runtime.ts';

async function issuesOf(env: Record<string, string>): Promise<string[]> {
  try {
    await loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  assert.fail('expected a ConfigError');
}

describe('redis cluster options', () => {
  it('builds cache and broker options for a cluster from REDIS_CLUSTER_NODES and friends', async () => {
    const config = await loadConfig({
      CACHE_DRIVER: 'redis',
      BROKER_DRIVER: 'redis',
      REDIS_CLUSTER_NODES: '10.0.0.1:6379, 10.0.0.2:6379,10.0.0.3:6380',
      REDIS_CLUSTER_TLS: 'true',
      REDIS_CLUSTER_USERNAME: 'orders',
      REDIS_PASSWORD: 'pa55',
    });
    for (const options of [config.cache, config.broker]) {
      assert.ok(options?.driver === 'redis');
      assert.equal(options.url, undefined);
      assert.deepEqual(options.cluster, {
        nodes: ['10.0.0.1:6379', '10.0.0.2:6379', '10.0.0.3:6380'],
        tls: true,
        username: 'orders',
      });
      assert.ok(options.password instanceof Redacted);
    }
  });

  it('wants exactly one of REDIS_URL and REDIS_CLUSTER_NODES, and host:port nodes', async () => {
    assert.deepEqual(await issuesOf({ CACHE_DRIVER: 'redis' }), [
      'REDIS_URL: is required, unless cluster.nodes (REDIS_CLUSTER_NODES) names a Redis Cluster',
    ]);
    assert.deepEqual(
      await issuesOf({ BROKER_DRIVER: 'redis', REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'b:6379' }),
      ['REDIS_URL: and cluster.nodes (REDIS_CLUSTER_NODES) exclude each other: set one'],
    );
    assert.deepEqual(
      await issuesOf({ CACHE_DRIVER: 'redis', REDIS_CLUSTER_NODES: 'b:6379,redis://c:6379' }),
      ['REDIS_CLUSTER_NODES: must be host:port'],
    );
  });

  it('refuses typed options with neither or both targets before connecting', () => {
    assert.throws(() => createRedisCache({}, silentRuntime()), ConfigError);
    assert.throws(
      () => createRedisBroker({ url: 'redis://a:6379', cluster: { nodes: ['b:6379'] } }, silentRuntime()),
      ConfigError,
    );
    assert.throws(() => createRedisCache({ cluster: { nodes: [] } }, silentRuntime()), ConfigError);
  });
});

describe('classifyRedisError on a cluster', () => {
  it('reads a cluster no node of which answers, slots that keep moving and a cluster down as unavailable', () => {
    assert.equal(classifyRedisError(new RootNodesUnavailableError()).reason, 'unavailable');
    assert.equal(
      classifyRedisError(new MaxCommandRedirectionsError(new Error('MOVED 1 a:1'))).reason,
      'unavailable',
    );
    assert.equal(classifyRedisError(new ErrorReply('CLUSTERDOWN The cluster is down')).reason, 'unavailable');
    assert.equal(classifyRedisError(new ErrorReply('CROSSSLOT Keys in request')).reason, 'internal');
  });
});
