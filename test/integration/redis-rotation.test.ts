// Credential rotation on Redis over TLS (#26): the password is REDIS_PASSWORD=secret://…, read from
// a mounted secrets folder (SECRETS_DRIVER=file). The folder gets the new password first, then the
// ACL user's password is changed on the server and its connections dropped (Redis keeps connections
// that authenticated before, as a restart or failover would not). The running cache reads the
// secret again when Redis refuses the old password, and no call fails beyond the first.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { createInfrastructure, loadConfig } from '../../src/index.ts';
import { redisSecureCommands } from '../servers/launchers/redis-secure.ts';
import { findRedisSecureAdmin, newPassword, secretsFolder, steadyTraffic } from '../support/rotation.ts';
import { secretWatch } from '../support/secret-watch.ts';
import { findRedisSecure } from '../support/secure-servers.ts';

const secure = await findRedisSecure();
const admin = await findRedisSecureAdmin();
const skip = 'skip' in secure ? secure.skip : 'skip' in admin ? admin.skip : false;

describe('redis credential rotation from a secret:// reference', { skip }, () => {
  if ('skip' in secure || 'skip' in admin) return;
  const secrets = secretsFolder();
  const ca = fs.readFileSync(secure.caFile, 'utf8');
  const adminClient = createClient({ url: admin.url, socket: { tls: true, ca } });
  const user = `rotation-${process.pid}`;
  after(async () => {
    await adminClient.sendCommand(['ACL', 'DELUSER', user]).catch(() => undefined);
    adminClient.destroy();
    secrets.remove();
  });

  const setPassword = (password: string): Promise<unknown> =>
    adminClient.sendCommand([
      'ACL',
      'SETUSER',
      user,
      'on',
      'resetpass',
      `>${password}`,
      'resetkeys',
      '~*',
      '-@all',
      ...redisSecureCommands.map((command) => `+${command}`),
    ]);

  it('rotation: a password changed in the store, then on the server, fails no call beyond the first', async () => {
    await adminClient.connect();
    const [oldPassword, newOne] = [newPassword('old'), newPassword('new')];
    await setPassword(oldPassword);
    secrets.write('redis-password', oldPassword);
    const server = new URL(secure.url);
    const watch = secretWatch();
    const { runtime } = watch;
    const env = {
      CACHE_DRIVER: 'redis',
      REDIS_URL: `rediss://${user}@${server.host}`,
      REDIS_PASSWORD: 'secret://redis-password',
      REDIS_TLS_CA_FILE: secure.caFile,
      REDIS_KEY_PREFIX: `${user}:`,
      SECRETS_DRIVER: 'file',
      SECRETS_DIR: secrets.dir,
    };
    const infra = await createInfrastructure(await loadConfig(env, { runtime }), runtime);
    try {
      const { cache } = infra;
      await cache.set('k', 'v');
      let n = 0;
      const traffic = steadyTraffic(() => (n++ % 2 === 0 ? cache.get('k') : cache.set('k', `v${n}`)));
      await sleep(300);
      secrets.write('redis-password', newOne);
      await sleep(200);
      await setPassword(newOne);
      const killed = await adminClient.sendCommand(['CLIENT', 'KILL', 'USER', user]);
      await sleep(1_500);
      const result = await traffic.stop();
      assert.ok(Number(killed) >= 1, `the cache's connection was dropped (${Number(killed)})`);
      assert.ok(
        result.failures.length <= 1,
        `${result.failures.length} of ${result.calls} calls failed: ${JSON.stringify(result.failures.slice(0, 3))}`,
      );
      await cache.set('k', 'after');
      assert.equal(await cache.get('k'), 'after');
      assert.equal((await cache.health()).status, 'up');
      assert.match(watch.logs(), /credentials renewed/);
      watch.keep(result);
      await watch.assertNoSecrets({ 'the old password': oldPassword, 'the new password': newOne });
      console.log(
        `redis rotation: ${result.calls} calls, ${result.failures.length} failed, slowest ${result.slowestMs} ms`,
      );
    } finally {
      await infra.close();
    }
  });
});
