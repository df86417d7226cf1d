// Every SecretStore adapter and the caching layer, used with known secret values and made to
// fail: no value may show in logs, errors, metrics or health reports. And the Redis cache-aside
// entries hold ciphertext only, read straight from Redis. And the PostgreSQL password of the SQL
// adapter, given in the URL, as an option or as a secret:// reference, right, wrong or for a
// server that is not there. (The embedded SQL adapter takes no password.)
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import { createClient } from 'redis';
import { createAzureKeyVaultSecretStore } from '../../src/adapters/azure-keyvault/index.ts';
import { createEnvSecretStore } from '../../src/adapters/env/index.ts';
import { createFileSecretStore } from '../../src/adapters/file/index.ts';
import { createMemorySecretStore } from '../../src/adapters/memory/index.ts';
import { createPostgresDatabase } from '../../src/adapters/postgres/index.ts';
import { createRedisCache } from '../../src/adapters/redis/index.ts';
import { HealthChecker } from '../../src/health/index.ts';
import { createInfrastructure, loadConfig } from '../../src/index.ts';
import { isInfraError, Redacted, sql, type SecretStore, type SqlDatabase } from '../../src/ports/index.ts';
import { cachedSecretStore } from '../../src/runtime/index.ts';
import { startKeyVaultEmulator, type KeyVaultEmulator } from '../servers/keyvault/server.ts';
import { keyVaultOptions } from '../support/keyvault.ts';
import { freePort } from '../support/ports.ts';
import { capturingRuntime } from '../support/runtime.ts';
import { findPostgres, findRedis } from '../support/servers.ts';

const redis = await findRedis();
const postgres = await findPostgres();

const secretValue = (label: string): string => `${label}-${randomBytes(16).toString('hex')}`;

/** Everything an error can show: message, stack, JSON and inspect output with its causes. */
const shown = (error: unknown): string =>
  [String(error), (error as Error).stack, JSON.stringify(error), inspect(error, { depth: 8 })].join('\n');

/** Runs `fn`, keeping what its failure shows; a success shows its result as printed. */
async function capture(into: string[], fn: () => Promise<unknown>): Promise<void> {
  try {
    const result = await fn();
    into.push(inspect(result, { depth: 8 }), JSON.stringify(result) ?? '');
  } catch (error) {
    into.push(shown(error));
  }
}

describe('secret values leak nowhere', { skip: 'skip' in redis ? redis.skip : false }, () => {
  let vault: KeyVaultEmulator;
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-secret-leaks-'));
  before(async () => {
    vault = await startKeyVaultEmulator();
  });
  after(async () => {
    await vault.stop();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('through every adapter and the cache layer, working and failing', async () => {
    const runtime = capturingRuntime({ timeoutMs: 2_000, retry: { maxAttempts: 2, initialDelayMs: 10 } });
    const values = {
      memory: secretValue('memory'),
      env: secretValue('env'),
      file: secretValue('file'),
      keyvault: secretValue('keyvault'),
      written: secretValue('written'),
    };
    fs.writeFileSync(path.join(folder, 'db-password'), `${values.file}\n`);
    const kv = createAzureKeyVaultSecretStore(keyVaultOptions(vault), runtime);
    await kv.set('db-password', values.keyvault);
    const sharedCache = createRedisCache(
      { url: 'skip' in redis ? '' : redis.url, keyPrefix: 'leaks:' },
      runtime,
    );
    const stores: SecretStore[] = [
      createMemorySecretStore({ secrets: { 'db-password': values.memory } }, runtime),
      createEnvSecretStore({ prefix: 'LEAK_', env: { LEAK_DB_PASSWORD: values.env } }, runtime),
      createFileSecretStore({ directory: folder }, runtime),
      kv,
    ];
    stores.push(
      cachedSecretStore(
        kv,
        {
          id: 'secrets:cached',
          ttlMs: 50,
          maxStaleMs: 60_000,
          cache: sharedCache,
          encryptionKey: randomBytes(32),
        },
        runtime,
      ),
    );
    const checker = new HealthChecker({ cacheTtlMs: 0 });
    stores.forEach((store, i) => checker.register(`${store.id}#${i}`, store));
    const captured: string[] = [];

    for (const store of stores) {
      await capture(captured, () => store.get('db-password'));
      await capture(captured, () => store.list());
      await capture(captured, () => store.get('missing-secret'));
      await capture(captured, () => store.get('../db-password'));
      await capture(captured, () => store.set('written', values.written));
      await capture(captured, () => store.set('written', 42 as unknown as string));
      captured.push(JSON.stringify(await store.health()));
    }
    captured.push(JSON.stringify(await checker.readiness()));

    // Failures: the vault answers 500s, then goes away; the folder goes away.
    vault.failNext(4, { status: 500, body: { error: { code: 'InternalError', message: values.keyvault } } });
    await capture(captured, () => kv.get('db-password'));
    await capture(captured, () => kv.set('db-password', values.written));
    await vault.stop();
    fs.renameSync(folder, `${folder}-gone`);
    await sleep(60); // the cached store's TTL: it now serves its stale value and logs why
    for (const store of stores) await capture(captured, () => store.get('db-password'));
    const down = await checker.readiness();
    assert.equal(down.status, 'down');
    captured.push(JSON.stringify(down), inspect(down, { depth: 8 }));
    fs.renameSync(`${folder}-gone`, folder);
    await vault.start();

    for (const store of stores) await store.close();
    await sharedCache.close();
    captured.push(await runtime.registry.metrics(), runtime.logs());

    const everything = captured.join('\n');
    assert.match(everything, /<redacted>/, 'the values were printed, as <redacted>');
    assert.match(runtime.logs(), /serving the last good value/, 'the failures were logged');
    assert.match(everything, /unavailable/);
    for (const [label, value] of Object.entries(values)) {
      assert.equal(everything.includes(value), false, `the ${label} value leaked`);
    }
  });

  it('the Redis cache-aside entries hold ciphertext only', async () => {
    const url = 'skip' in redis ? '' : redis.url;
    const runtime = capturingRuntime();
    const prefix = `leaks-${randomBytes(4).toString('hex')}:`;
    const sharedCache = createRedisCache({ url, keyPrefix: prefix }, runtime);
    const value = secretValue('cache-aside');
    const store = cachedSecretStore(
      createMemorySecretStore({ secrets: { 'api-token': value } }, runtime),
      { cache: sharedCache, encryptionKey: randomBytes(32) },
      runtime,
    );
    assert.equal((await store.get('api-token')).value.reveal(), value);

    const raw = createClient({ url });
    await raw.connect();
    try {
      const keys = await raw.keys(`${prefix}*`);
      assert.deepEqual(keys, [`${prefix}secret:api-token`]);
      const stored = (await raw.get(keys[0]!))!;
      assert.ok(stored.length > value.length, 'an entry was written');
      for (const form of [
        value,
        Buffer.from(value).toString('base64'),
        Buffer.from(value).toString('base64url'),
      ]) {
        assert.equal(stored.includes(form), false, 'plain value in Redis');
      }
      const body = Buffer.from((JSON.parse(stored) as string).split('.')[2]!, 'base64url');
      assert.equal(body.includes(Buffer.from(value)), false, 'the sealed body is not the plain value');
      await raw.del(keys);
    } finally {
      await raw.quit();
      await store.close();
      await sharedCache.close();
    }
  });
});

describe('SQL passwords leak nowhere', { skip: 'skip' in postgres ? postgres.skip : false }, () => {
  it('pg: in the URL, as an option, as a secret:// reference; wrong; the server unreachable', async () => {
    const runtime = capturingRuntime({ timeoutMs: 3_000, retry: { maxAttempts: 2, initialDelayMs: 10 } });
    const url = new URL('skip' in postgres ? 'postgres://x@127.0.0.1' : postgres.url);
    const values = { real: decodeURIComponent(url.password), wrong: secretValue('wrong-pg') };
    assert.ok(values.real.length >= 8, 'the test server has a password');
    const withPassword = (password: string, port = url.port): string => {
      const other = new URL(url);
      other.password = password;
      other.port = port;
      return other.toString();
    };
    const bare = withPassword('');
    const options = { poolSize: 2, connectTimeoutMs: 2_000, applicationName: 'berth-leaks' };
    const secrets = createMemorySecretStore(
      { secrets: { 'pg-password': values.real, 'pg-wrong': values.wrong } },
      runtime,
    );
    const fromConfig = async (reference: string) => {
      const config = await loadConfig(
        { SQL_DRIVER: 'postgres', POSTGRES_URL: bare, POSTGRES_PASSWORD: reference },
        { secrets },
      );
      const infra = await createInfrastructure(config, runtime);
      return { infra, config };
    };
    const [good, wrong] = [await fromConfig('secret://pg-password'), await fromConfig('secret://pg-wrong')];
    const databases: [string, SqlDatabase][] = [
      ['url', createPostgresDatabase({ ...options, url: url.toString() }, runtime)],
      ['option', createPostgresDatabase({ ...options, url: bare, password: values.real }, runtime)],
      [
        'redacted',
        createPostgresDatabase({ ...options, url: bare, password: new Redacted(values.real) }, runtime),
      ],
      ['secret://', good.infra.sql],
      ['wrong url', createPostgresDatabase({ ...options, url: withPassword(values.wrong) }, runtime)],
      [
        'wrong option',
        createPostgresDatabase({ ...options, url: url.toString(), password: values.wrong }, runtime),
      ],
      ['wrong secret://', wrong.infra.sql],
      [
        'unreachable',
        createPostgresDatabase(
          { ...options, url: withPassword(values.real, String(await freePort())) },
          runtime,
        ),
      ],
    ];
    const checker = new HealthChecker({ cacheTtlMs: 0 });
    databases.forEach(([name, db]) => checker.register(name, db));
    const captured: string[] = [inspect(good.config, { depth: 8 }), JSON.stringify(good.config)];
    const outcomes: Record<string, string> = {};
    for (const [name, db] of databases) {
      try {
        captured.push(inspect(await db.query(sql`SELECT ${1}::int AS one`)));
        outcomes[name] = 'ok';
      } catch (error) {
        captured.push(shown(error));
        outcomes[name] = isInfraError(error) ? error.reason : String(error);
      }
      await capture(captured, () => db.query({ text: 'SELEC nonsense' }));
      await capture(captured, () => db.transaction((tx) => tx.execute(sql`SELECT ${2}::int`)));
      await capture(captured, async () => {
        for await (const row of db.stream(sql`SELECT generate_series(1, ${3}) AS n`)) void row;
      });
      captured.push(JSON.stringify(await db.health()), inspect(db, { depth: 4 }));
    }
    const readiness = await checker.readiness();
    captured.push(JSON.stringify(readiness), inspect(readiness, { depth: 8 }));
    for (const [, db] of databases) await db.close();
    await good.infra.close();
    await wrong.infra.close();
    await secrets.close();
    captured.push(await runtime.registry.metrics(), runtime.logs());

    const everything = captured.join('\n');
    // The working ones answered and the others failed as they should: else nothing was tested.
    assert.deepEqual(outcomes, {
      url: 'ok',
      option: 'ok',
      redacted: 'ok',
      'secret://': 'ok',
      'wrong url': 'unauthorized',
      'wrong option': 'unauthorized',
      'wrong secret://': 'unauthorized',
      unreachable: 'unavailable',
    });
    assert.equal(readiness.status, 'down');
    assert.match(everything, /<redacted>/, 'a password was printed, as <redacted>');
    for (const [label, value] of Object.entries(values)) {
      assert.equal(everything.includes(value), false, `the ${label} password leaked`);
      assert.equal(everything.includes(encodeURIComponent(value)), false, `the ${label} password leaked`);
    }
  });
});
