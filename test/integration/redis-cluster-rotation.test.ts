// Credential rotation on a Redis Cluster over TLS (#26): as on one server (redis-rotation), the
// password comes from REDIS_PASSWORD=secret://… in a mounted secrets folder; the folder gets the new
// one first, then the ACL user's password changes on every node (ACLs are per node) and its
// connections are dropped. Every node connection of the cluster client reads the secret again.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createInfrastructure, loadConfig } from '../../src/index.ts';
import { redisSecureCommands } from '../servers/launchers/redis-secure.ts';
import { redisClusterCommands, startTlsRedisCluster } from '../support/redis-cluster-tls.ts';
import { redisServerBinary } from '../support/redis-cluster.ts';
import { newPassword, secretsFolder, steadyTraffic } from '../support/rotation.ts';
import { secretWatch } from '../support/secret-watch.ts';

const binary = await redisServerBinary();

describe(
  'redis cluster credential rotation from a secret:// reference',
  { skip: binary.skip ?? false },
  () => {
    if (binary.path === undefined) return;
    const secrets = secretsFolder();
    after(() => secrets.remove());

    it('rotation on a TLS cluster: a password changed in the store, then on every node, fails no call beyond the first', async () => {
      const cluster = await startTlsRedisCluster(binary.path!);
      const user = 'rotation';
      const commands = [...redisSecureCommands, ...redisClusterCommands];
      const setPassword = (password: string): Promise<unknown> =>
        Promise.all(
          cluster.ports.map((port) =>
            cluster.admin(port, [
              'ACL',
              'SETUSER',
              user,
              'on',
              'resetpass',
              `>${password}`,
              'resetkeys',
              '~*',
              '-@all',
              ...commands.map((command) => `+${command}`),
            ]),
          ),
        );
      const [oldPassword, newOne] = [newPassword('old'), newPassword('new')];
      await setPassword(oldPassword);
      secrets.write('redis-password', oldPassword);
      const watch = secretWatch();
      const { runtime } = watch;
      const env = {
        CACHE_DRIVER: 'redis',
        REDIS_CLUSTER_NODES: cluster.nodes.join(','),
        REDIS_CLUSTER_TLS: 'true',
        REDIS_CLUSTER_USERNAME: user,
        REDIS_PASSWORD: 'secret://redis-password',
        REDIS_TLS_CA_FILE: cluster.certificates.caFile,
        SECRETS_DRIVER: 'file',
        SECRETS_DIR: secrets.dir,
      };
      const infra = await createInfrastructure(await loadConfig(env, { runtime }), runtime);
      try {
        const { cache } = infra;
        // Keys on every master, so that every node connection is in use.
        const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
        await cache.setMany(keys.map((key) => ({ key, value: key })));
        const traffic = steadyTraffic(() => cache.getMany(keys));
        await sleep(300);
        secrets.write('redis-password', newOne);
        await sleep(200);
        await setPassword(newOne);
        const killed = await Promise.all(
          cluster.ports.map((port) => cluster.admin(port, ['CLIENT', 'KILL', 'USER', user])),
        );
        await sleep(2_000);
        const result = await traffic.stop();
        const dropped = killed.reduce((sum, count) => sum + Number(count), 0);
        assert.ok(dropped >= 3, `the cache's node connections were dropped (${dropped})`);
        assert.ok(
          result.failures.length <= 1,
          `${result.failures.length} of ${result.calls} calls failed: ${JSON.stringify(result.failures.slice(0, 3))}`,
        );
        assert.deepEqual(await cache.getMany(keys), keys);
        assert.equal((await cache.health()).status, 'up');
        assert.match(watch.logs(), /credentials renewed/);
        watch.keep(result);
        await watch.assertNoSecrets({ 'the old password': oldPassword, 'the new password': newOne });
        console.log(
          `redis cluster rotation: ${result.calls} calls, ${result.failures.length} failed, ${dropped} connections dropped, slowest ${result.slowestMs} ms`,
        );
      } finally {
        await infra.close();
        await cluster.stop();
      }
    });
  },
);
