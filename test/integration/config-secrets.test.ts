// A Redis password that never sits in the environment: REDIS_PASSWORD=secret://redis-password,
// read from the Key Vault emulator through the real SDK, and the cache then works on a Redis
// that demands it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { createAzureKeyVaultSecretStore } from '../../src/adapters/azure-keyvault/index.ts';
import { createInfrastructure, loadConfig } from '../../src/index.ts';
import { startKeyVaultEmulator, type KeyVaultEmulator } from '../servers/keyvault/server.ts';
import { keyVaultOptions } from '../support/keyvault.ts';
import { capturingRuntime } from '../support/runtime.ts';
import { findRedis } from '../support/servers.ts';

const redis = await findRedis();

describe(
  'secret:// references in config, from Key Vault',
  { skip: 'skip' in redis ? redis.skip : false },
  () => {
    const url = 'skip' in redis ? '' : redis.url;
    const user = `berth-config-${process.pid}`;
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const admin = createClient({ url });
    let vault: KeyVaultEmulator;

    before(async () => {
      vault = await startKeyVaultEmulator();
      await admin.connect();
      await admin.sendCommand(['ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all']);
    });
    after(async () => {
      await admin.sendCommand(['ACL', 'DELUSER', user]);
      admin.destroy();
      await vault.stop();
    });

    it('connects the Redis cache with a password read from the vault', async () => {
      const runtime = capturingRuntime();
      const secrets = createAzureKeyVaultSecretStore(keyVaultOptions(vault), runtime);
      await secrets.set('redis-password', password);
      const userUrl = new URL(url);
      userUrl.username = user;
      const config = await loadConfig(
        { CACHE_DRIVER: 'redis', REDIS_URL: userUrl.toString(), REDIS_PASSWORD: 'secret://redis-password' },
        { secrets },
      );
      await secrets.close();
      const infra = await createInfrastructure(config, runtime);
      try {
        await infra.cache.set('config-secrets', { ok: true });
        assert.deepEqual(await infra.cache.get('config-secrets'), { ok: true });
        assert.equal((await infra.health.readiness()).status, 'up');
      } finally {
        await infra.close();
      }
      assert.equal(runtime.logs().includes(password), false, 'the password reached a log');
    });
  },
);
