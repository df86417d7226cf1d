import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createMemoryCache, createMemorySecretStore } from '../../src/adapters/memory/index.ts';
import { createRedisCache } from '../../src/adapters/redis/index.ts';
import { loadConfig, type LoadConfigOptions } from '../../src/config/load-config.ts';
import type { InfrastructureConfig } from '../../src/config/ports.ts';

/** The configuration with cache, broker and document store on memory unless the variables choose. */
async function load(
  env: Record<string, string | undefined>,
  options: LoadConfigOptions = {},
): Promise<Required<Pick<InfrastructureConfig, 'cache' | 'broker' | 'documents'>>> {
  const config = await loadConfig(env, { memoryDefaults: ['cache', 'broker', 'documents'], ...options });
  assert.ok(config.cache && config.broker && config.documents);
  return config as Required<InfrastructureConfig>;
}
import { ConfigError, Redacted } from '../../src/ports/index.ts';
import { capturingRuntime, silentRuntime } from '../support/runtime.ts';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a ConfigError');
}

async function loadError(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a ConfigError');
}

const password = 'pa55-not-for-logs';

describe('loadConfig', () => {
  it('defaults to the memory cache', async () => {
    const config = await load({});
    assert.equal(config.cache.driver, 'memory');
    assert.ok(config.cache.driver === 'memory' && (config.cache.maxEntries ?? 0) > 0);
  });

  it('builds Redis options from REDIS_URL and friends', async () => {
    const config = await load({
      CACHE_DRIVER: 'redis',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: 'app:',
      CACHE_TIMEOUT_MS: '250',
      CACHE_TOTAL_TIMEOUT_MS: '600',
    });
    assert.equal(config.cache.driver, 'redis');
    assert.ok(config.cache.driver === 'redis');
    assert.equal(config.cache.url, 'redis://127.0.0.1:6379');
    assert.equal(config.cache.keyPrefix, 'app:');
    assert.equal(config.cache.policies?.timeoutMs, 250);
    assert.equal(config.cache.policies?.totalTimeoutMs, 600);
  });

  it('lists every problem at once, named by variable', async () => {
    const error = await loadError(
      load({ CACHE_DRIVER: 'memory', CACHE_MAX_ENTRIES: 'lots', CACHE_TIMEOUT_MS: '-3' }),
    );
    const paths = error.issues.map((issue) => issue.path).sort();
    assert.deepEqual(paths, ['CACHE_MAX_ENTRIES', 'CACHE_TIMEOUT_MS']);
    assert.deepEqual(
      (await loadError(load({ CACHE_DRIVER: 'memcached' }))).issues.map((i) => i.path),
      ['CACHE_DRIVER'],
    );
    assert.deepEqual(
      (await loadError(load({ CACHE_DRIVER: 'redis' }))).issues.map((i) => i.path),
      ['REDIS_URL'],
    );
  });

  it('never echoes a password from a bad REDIS_URL', async () => {
    const error = await loadError(load({ CACHE_DRIVER: 'redis', REDIS_URL: `http://user:${password}@host` }));
    assert.deepEqual(
      error.issues.map((i) => i.path),
      ['REDIS_URL'],
    );
    assert.equal(
      JSON.stringify({ message: error.message, issues: error.issues, stack: error.stack }).includes(password),
      false,
    );
  });
});

describe('loadConfig: the broker', () => {
  it('defaults to the memory broker', async () => {
    const config = await load({});
    assert.equal(config.broker.driver, 'memory');
  });

  it('builds Kafka options from KAFKA_BROKERS and friends, the SASL password Redacted', async () => {
    const config = await load({
      BROKER_DRIVER: 'kafka',
      KAFKA_BROKERS: 'k1:9092, k2:9093',
      KAFKA_CLIENT_ID: 'orders',
      KAFKA_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'orders-svc',
      KAFKA_SASL_PASSWORD: password,
      BROKER_TIMEOUT_MS: '2500',
    });
    assert.ok(config.broker.driver === 'kafka');
    assert.deepEqual(config.broker.brokers, ['k1:9092', 'k2:9093']);
    assert.equal(config.broker.clientId, 'orders');
    assert.equal(config.broker.ssl, true);
    assert.equal(config.broker.sasl?.mechanism, 'scram-sha-512');
    assert.ok(config.broker.sasl?.password instanceof Redacted);
    assert.equal(config.broker.sasl.password.reveal(), password);
    assert.equal(config.broker.policies?.timeoutMs, 2500);
    assert.equal(JSON.stringify(config).includes(password), false);
  });

  it('builds Redis Streams options from REDIS_URL, REDIS_PASSWORD and REDIS_STREAM_PREFIX', async () => {
    const config = await load({
      BROKER_DRIVER: 'redis',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PASSWORD: password,
      REDIS_STREAM_PREFIX: 'events:',
    });
    assert.ok(config.broker.driver === 'redis');
    assert.equal(config.broker.url, 'redis://127.0.0.1:6379');
    assert.equal(config.broker.streamPrefix, 'events:');
    assert.ok(config.broker.password instanceof Redacted);
  });

  it('names every bad broker variable at once, echoing no password', async () => {
    const error = await loadError(
      load({
        BROKER_DRIVER: 'kafka',
        KAFKA_BROKERS: 'no-port, k2:9093',
        KAFKA_SSL: 'maybe',
        KAFKA_SASL_MECHANISM: 'gssapi',
        KAFKA_SASL_PASSWORD: password,
        BROKER_TIMEOUT_MS: 'soon',
      }),
    );
    assert.deepEqual(error.issues.map((i) => i.path).sort(), [
      'BROKER_TIMEOUT_MS',
      'KAFKA_BROKERS',
      'KAFKA_SASL_MECHANISM',
      'KAFKA_SASL_USERNAME',
      'KAFKA_SSL',
    ]);
    assert.equal(JSON.stringify({ message: error.message, issues: error.issues }).includes(password), false);
    assert.deepEqual(
      (await loadError(load({ BROKER_DRIVER: 'kafka' }))).issues.map((i) => i.path),
      ['KAFKA_BROKERS'],
    );
    assert.deepEqual(
      (await loadError(load({ BROKER_DRIVER: 'rabbitmq' }))).issues.map((i) => i.path),
      ['BROKER_DRIVER'],
    );
    assert.deepEqual(
      (await loadError(load({ BROKER_DRIVER: 'redis' }))).issues.map((i) => i.path),
      ['REDIS_URL'],
    );
  });

  it('reports cache and broker problems together', async () => {
    const error = await loadError(load({ CACHE_DRIVER: 'memcached', BROKER_DRIVER: 'kafka' }));
    assert.deepEqual(error.issues.map((i) => i.path).sort(), ['CACHE_DRIVER', 'KAFKA_BROKERS']);
  });
});

describe('loadConfig: the document store', () => {
  it('defaults to the memory document store', async () => {
    assert.equal((await load({})).documents.driver, 'memory');
  });

  it('builds MongoDB options from MONGODB_URL and friends, the password Redacted', async () => {
    const config = await load({
      DOCUMENT_STORE_DRIVER: 'mongodb',
      MONGODB_URL: 'mongodb://db:27017/',
      MONGODB_DATABASE: 'orders',
      MONGODB_USERNAME: 'orders-svc',
      MONGODB_PASSWORD: password,
      DOCUMENT_STORE_TIMEOUT_MS: '800',
    });
    assert.ok(config.documents.driver === 'mongodb');
    assert.equal(config.documents.url, 'mongodb://db:27017/');
    assert.equal(config.documents.database, 'orders');
    assert.equal(config.documents.auth?.username, 'orders-svc');
    assert.ok(config.documents.auth.password instanceof Redacted);
    assert.equal(config.documents.policies?.timeoutMs, 800);
    assert.equal(JSON.stringify(config).includes(password), false);
  });

  it('names every bad document store variable, echoing no password', async () => {
    const error = await loadError(
      load({
        DOCUMENT_STORE_DRIVER: 'mongodb',
        MONGODB_URL: `http://user:${password}@db`,
        MONGODB_DATABASE: 'no/slashes',
        MONGODB_PASSWORD: password,
      }),
    );
    assert.deepEqual(error.issues.map((i) => i.path).sort(), [
      'MONGODB_DATABASE',
      'MONGODB_URL',
      'MONGODB_USERNAME',
    ]);
    assert.equal(JSON.stringify({ message: error.message, issues: error.issues }).includes(password), false);
    assert.deepEqual(
      (await loadError(load({ DOCUMENT_STORE_DRIVER: 'mongodb' }))).issues.map((i) => i.path).sort(),
      ['MONGODB_DATABASE', 'MONGODB_URL'],
    );
    assert.deepEqual(
      (await loadError(load({ DOCUMENT_STORE_DRIVER: 'couchdb' }))).issues.map((i) => i.path),
      ['DOCUMENT_STORE_DRIVER'],
    );
  });
});

describe('loadConfig with secret:// references', () => {
  const redisPassword = 'pw-from-the-store-0f3a';

  it('resolves references through the store it is given, keeping passwords Redacted', async () => {
    const secrets = createMemorySecretStore(
      { secrets: { 'redis-password': redisPassword, 'redis-url': 'redis://cache.internal:6380' } },
      silentRuntime(),
    );
    const config = await load(
      { CACHE_DRIVER: 'redis', REDIS_URL: 'secret://redis-url', REDIS_PASSWORD: 'secret://redis-password' },
      { secrets },
    );
    assert.ok(config.cache.driver === 'redis');
    assert.equal(config.cache.url, 'redis://cache.internal:6380');
    assert.ok(config.cache.password instanceof Redacted);
    assert.equal(config.cache.password.reveal(), redisPassword);
    assert.ok(!JSON.stringify(config).includes(redisPassword));
  });

  it('builds the store SECRETS_DRIVER names: env and file', async () => {
    const fromEnv = await load({
      CACHE_DRIVER: 'redis',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PASSWORD: 'secret://redis-password',
      SECRETS_DRIVER: 'env',
      SECRETS_ENV_PREFIX: 'APP_SECRET_',
      APP_SECRET_REDIS_PASSWORD: redisPassword,
    });
    assert.ok(fromEnv.cache.driver === 'redis' && fromEnv.cache.password instanceof Redacted);
    assert.equal(fromEnv.cache.password.reveal(), redisPassword);

    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-config-secrets-'));
    fs.writeFileSync(path.join(directory, 'cache-size'), '42\n');
    const fromFile = await load({
      CACHE_MAX_ENTRIES: 'secret://cache-size',
      SECRETS_DRIVER: 'file',
      SECRETS_DIR: directory,
    });
    assert.ok(fromFile.cache.driver === 'memory');
    assert.equal(fromFile.cache.maxEntries, 42);
    fs.rmSync(directory, { recursive: true });
  });

  it('names every variable whose reference fails, with the reason and no value', async () => {
    const secrets = createMemorySecretStore({ secrets: { 'redis-url': 'not a url' } }, silentRuntime());
    const error = await loadError(
      load(
        { CACHE_DRIVER: 'redis', REDIS_URL: 'secret://redis-url', REDIS_PASSWORD: 'secret://nope' },
        { secrets },
      ),
    );
    assert.deepEqual(error.issues.map((issue) => issue.path).sort(), ['REDIS_PASSWORD']);
    assert.match(error.message, /secret "nope" could not be read from secrets:memory: not_found/);

    const badUrl = await loadError(
      load({ CACHE_DRIVER: 'redis', REDIS_URL: 'secret://redis-url' }, { secrets }),
    );
    assert.deepEqual(
      badUrl.issues.map((issue) => issue.path),
      ['REDIS_URL'],
    );
    assert.ok(!badUrl.message.includes('not a url'));
  });

  it('refuses references without a secret store, and unknown drivers', async () => {
    const none = await loadError(load({ REDIS_PASSWORD: 'secret://redis-password' }));
    assert.deepEqual(
      none.issues.map((issue) => issue.path),
      ['REDIS_PASSWORD'],
    );
    assert.match(none.message, /no secret store is configured/);
    const unknown = await loadError(load({ REDIS_PASSWORD: 'secret://x', SECRETS_DRIVER: 'vault' }));
    assert.deepEqual(
      unknown.issues.map((issue) => issue.path),
      ['SECRETS_DRIVER'],
    );
    const noDir = await loadError(load({ REDIS_PASSWORD: 'secret://x', SECRETS_DRIVER: 'file' }));
    assert.deepEqual(
      noDir.issues.map((issue) => issue.path),
      ['SECRETS_DIR'],
    );
  });
});

describe('adapter options', () => {
  it('createRedisCache names each bad option and echoes no secret', () => {
    const error = configError(() =>
      createRedisCache(
        {
          url: `ftp://admin:${password}@example`,
          keyPrefix: 7 as unknown as string,
          connectTimeoutMs: -1,
          policies: { timeoutMs: 0, retry: { maxAttempts: 0 } },
          unknownOption: true,
        } as never,
        silentRuntime(),
      ),
    );
    const paths = error.issues.map((issue) => issue.path).sort();
    assert.deepEqual(paths, [
      '',
      'connectTimeoutMs',
      'keyPrefix',
      'policies.retry.maxAttempts',
      'policies.timeoutMs',
      'url',
    ]);
    assert.equal(JSON.stringify({ message: error.message, issues: error.issues }).includes(password), false);
  });

  it('createMemoryCache rejects a bad size bound', () => {
    const error = configError(() => createMemoryCache({ maxEntries: 0 }, silentRuntime()));
    assert.deepEqual(
      error.issues.map((issue) => issue.path),
      ['maxEntries'],
    );
  });
});

describe('loadConfig: ports beyond cache, broker and documents', () => {
  it('builds Key Vault options with an app secret Redacted, never in the config text', async () => {
    const secret = 'kv-client-secret-value';
    const config = await loadConfig({
      SECRETS_DRIVER: 'azure-keyvault',
      AZURE_KEYVAULT_URL: 'https://vault.example.net',
      AZURE_KEYVAULT_TENANT_ID: 'tenant',
      AZURE_KEYVAULT_CLIENT_ID: 'client',
      AZURE_KEYVAULT_CLIENT_SECRET: secret,
      AZURE_KEYVAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION: 'true',
    });
    assert.ok(config.secrets?.driver === 'azure-keyvault');
    assert.ok(config.secrets.clientSecretCredential?.clientSecret instanceof Redacted);
    assert.equal(config.secrets.disableChallengeResourceVerification, true);
    assert.equal(JSON.stringify(config).includes(secret), false);
  });

  it('names bad LLM and executor variables by name, echoing no key', async () => {
    const key = 'sk-never-echoed';
    const error = await loadError(
      loadConfig({
        LLM_DRIVER: 'openai',
        OPENAI_API_KEY: key,
        OPENAI_BASE_URL: `ftp://${key}@host`,
        EXECUTOR_DRIVER: 'process',
        EXECUTOR_CONCURRENCY: 'many',
        EXECUTOR_FORWARD_SIGNALS: 'yes',
      }),
    );
    assert.deepEqual(error.issues.map((issue) => issue.path).sort(), [
      'EXECUTOR_CONCURRENCY',
      'EXECUTOR_FORWARD_SIGNALS',
      'OPENAI_BASE_URL',
    ]);
    assert.equal(JSON.stringify({ message: error.message, issues: error.issues }).includes(key), false);
  });

  it('reads named instances: <NAME>_<PREFIX>_DRIVER and <NAME>_-prefixed variables', async () => {
    const config = await loadConfig({
      CACHE_DRIVER: 'memory',
      SESSIONS_CACHE_DRIVER: 'redis',
      SESSIONS_REDIS_URL: 'redis://sessions:6379',
      SESSIONS_CACHE_TIMEOUT_MS: '300',
      AUDIT_LOG_BROKER_DRIVER: 'memory',
    });
    const sessions = config.instances?.cache?.sessions;
    assert.ok(sessions?.driver === 'redis');
    assert.equal(sessions.url, 'redis://sessions:6379');
    assert.equal(sessions.id, 'cache:sessions');
    assert.equal(sessions.policies?.timeoutMs, 300);
    assert.equal(config.instances?.broker?.['audit-log']?.driver, 'memory');
    assert.equal(config.broker, undefined, 'no default broker: only the named one');
    const missing = await loadError(loadConfig({ SESSIONS_CACHE_DRIVER: 'redis' }));
    assert.deepEqual(
      missing.issues.map((issue) => issue.path),
      ['SESSIONS_REDIS_URL'],
    );
  });
});

describe('loadConfig: every bad variable of a port, named as the instance spells it', () => {
  it('names an invalid driver and the port’s other bad variables together', async () => {
    const error = await loadError(loadConfig({ CACHE_DRIVER: 'memcached', CACHE_TIMEOUT_MS: '-5' }));
    assert.deepEqual(error.issues.map((issue) => issue.path).sort(), ['CACHE_DRIVER', 'CACHE_TIMEOUT_MS']);
    const sql = await loadError(loadConfig({ SQL_DRIVER: 'oracle', SQL_ACQUIRE_TIMEOUT_MS: 'soon' }));
    assert.deepEqual(sql.issues.map((issue) => issue.path).sort(), ['SQL_ACQUIRE_TIMEOUT_MS', 'SQL_DRIVER']);
  });

  it('names a named instance’s variables with its prefix, in messages too', async () => {
    const neither = await loadError(loadConfig({ SESSIONS_CACHE_DRIVER: 'redis' }));
    assert.deepEqual(
      neither.issues.map((issue) => `${issue.path}: ${issue.message}`),
      [
        'SESSIONS_REDIS_URL: is required, unless cluster.nodes (SESSIONS_REDIS_CLUSTER_NODES) names a Redis Cluster',
      ],
    );
    const both = await loadError(
      loadConfig({
        SESSIONS_CACHE_DRIVER: 'redis',
        SESSIONS_REDIS_URL: 'redis://a:6379',
        SESSIONS_REDIS_CLUSTER_NODES: 'b:6379',
      }),
    );
    assert.match(
      both.message,
      /SESSIONS_REDIS_URL: and cluster\.nodes \(SESSIONS_REDIS_CLUSTER_NODES\) exclude/,
    );
    assert.equal(/(?<![A-Z_])REDIS_CLUSTER_NODES/.test(both.message), false);
  });
});

describe('loadConfig: variables nothing reads', () => {
  async function unknownOf(env: Record<string, string>, options: LoadConfigOptions = {}): Promise<string[]> {
    const seen: string[] = [];
    await loadConfig(env, {
      ...options,
      onUnknownVariables: (unknown) => {
        for (const { variable, suggestion } of unknown)
          seen.push(suggestion === undefined ? variable : `${variable} -> ${suggestion}`);
      },
    });
    return seen;
  }

  it('names a typo of a known prefix and the nearest variable', async () => {
    assert.deepEqual(await unknownOf({ CACHE_DRIVR: 'redis' }), ['CACHE_DRIVR -> CACHE_DRIVER']);
    assert.deepEqual(
      await unknownOf({ BROKER_DRIVER: 'kafka', KAFKA_BROKER: 'k:9092', KAFKA_BROKERS: 'k:9092' }),
      ['KAFKA_BROKER -> KAFKA_BROKERS'],
    );
    assert.deepEqual(await unknownOf({ REDIS_HOST: 'cache.internal' }), ['REDIS_HOST']);
  });

  it('checks a named instance’s variables against its own names', async () => {
    assert.deepEqual(
      await unknownOf({
        SESSIONS_CACHE_DRIVER: 'redis',
        SESSIONS_REDIS_URL: 'redis://a:6379',
        SESSIONS_REDIS_KEY_PREFX: 's:',
      }),
      ['SESSIONS_REDIS_KEY_PREFX -> SESSIONS_REDIS_KEY_PREFIX'],
    );
  });

  it('stays quiet about what berth reads, other software’s variables and the env store’s secrets', async () => {
    assert.deepEqual(
      await unknownOf({
        CACHE_DRIVER: 'memory',
        REDIS_URL: 'redis://a:6379', // read when CACHE_DRIVER=redis: known
        LOG_LEVEL: 'info',
        HOME: '/root',
        PATH: '/usr/bin',
        KAFKA_SERVICE_HOST: '10.0.0.1', // Kubernetes service links
        KAFKA_PORT_9092_TCP_ADDR: '10.0.0.1',
        AZURE_CLIENT_ID: 'read by DefaultAzureCredential',
        SECRETS_DRIVER: 'env',
        SECRETS_ENV_PREFIX: 'CACHE_SECRET_',
        CACHE_SECRET_TOKEN: 'not a config variable',
      }),
      [],
    );
  });

  it('warns through the runtime’s logger, in one line, once per variable', async () => {
    const runtime = capturingRuntime();
    const env = { CACHE_DRIVR: 'redis', REDIS_HOST: 'x', KAFKA_BROKER: 'k:1' };
    await loadConfig(env, { runtime });
    await loadConfig(env, { runtime });
    const warnings = runtime
      .logs()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: number; msg: string; variables: string[] })
      .filter((line) => line.level === 40);
    assert.equal(warnings.length, 1, runtime.logs());
    assert.deepEqual(warnings[0]?.variables, ['CACHE_DRIVR', 'KAFKA_BROKER', 'REDIS_HOST']);
    assert.match(warnings[0]?.msg ?? '', /CACHE_DRIVR \(did you mean CACHE_DRIVER\?\)/);
    const one = capturingRuntime();
    await loadConfig({ CACHE_DRIVR: 'redis' }, { runtime: one });
    assert.match(one.logs(), /"CACHE_DRIVR is not a variable berth reads; did you mean CACHE_DRIVER\?"/);
  });

  it('reports them even when the configuration is invalid', async () => {
    const seen: string[] = [];
    await loadError(
      loadConfig(
        { CACHE_DRIVER: 'redis', REDIS_UR: 'redis://a:6379' },
        {
          onUnknownVariables: (unknown) =>
            seen.push(...unknown.map((u) => `${u.variable} -> ${u.suggestion}`)),
        },
      ),
    );
    assert.deepEqual(seen, ['REDIS_UR -> REDIS_URL']);
  });
});
