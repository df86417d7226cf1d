// Every port built from the environment by loadConfig + createInfrastructure: on memory, and on
// each real backend this machine runs (Redis, Kafka, the MongoDB wire server, Cassandra, a secrets
// folder, the repo's OpenAI-wire server, local processes); a second named cache; an app component
// in the same lifecycle; everything closed in reverse order of creation.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  ConfigError,
  createInfrastructure,
  sql,
  loadConfig,
  type StartableComponent,
  type Infrastructure,
  type PortName,
} from '../../src/index.ts';
import { startLlmServer, type LlmTestServer } from '../servers/fakes/llm-servers.ts';
import { silentRuntime } from '../support/runtime.ts';
import { createAzureKeyVaultSecretStore } from '../../src/adapters/azure-keyvault/index.ts';
import { keyVaultOptions } from '../support/keyvault.ts';
import {
  findCassandra,
  findKafka,
  findKeyVault,
  findMongo,
  findPostgres,
  findRedis,
} from '../support/servers.ts';

const servers = {
  redis: await findRedis(),
  kafka: await findKafka(),
  mongo: await findMongo(),
  keyVault: await findKeyVault(),
  cassandra: await findCassandra(),
  postgres: await findPostgres(),
};
const everyPort: PortName[] = [
  'secrets',
  'cache',
  'documents',
  'sql',
  'timeSeries',
  'llm',
  'executor',
  'broker',
];

// Applied by infra.start() from SQL_MIGRATIONS_DIR.
const migrationsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-infra-migrations-'));
fs.writeFileSync(
  path.join(migrationsDir, '001_infra_orders.sql'),
  'CREATE TABLE IF NOT EXISTS infra_orders (id text PRIMARY KEY, total integer NOT NULL)',
);

/** Records the order in which the given components close. */
function recordCloses(components: StartableComponent[]): string[] {
  const order: string[] = [];
  for (const component of components) {
    const close = component.close.bind(component);
    Object.assign(component, {
      close: () => {
        order.push(component.id);
        return close();
      },
    });
  }
  return order;
}

/** Uses each of the eight ports once, so each is shown to be the working adapter the driver names. */
async function useEveryPort(infra: Infrastructure, secretName: string, secretValue: string): Promise<void> {
  assert.equal((await infra.secrets.get(secretName)).value.reveal(), secretValue);
  await infra.cache.set('infra-key', { n: 1 });
  assert.deepEqual(await infra.cache.get('infra-key'), { n: 1 });
  const orders = infra.documents.collection<{ total: number }>(`orders_${randomUUID().slice(0, 8)}`);
  const stored = await orders.insert({ total: 42 });
  assert.equal((await orders.get(stored._id))?.total, 42);
  const point = {
    series: 'infra.requests',
    tags: { route: '/orders' },
    time: Date.now(),
    fields: { count: 1 },
  };
  const orderId = randomUUID();
  await infra.sql.execute(sql`INSERT INTO infra_orders (id, total) VALUES (${orderId}, ${42})`);
  assert.deepEqual(await infra.sql.query(sql`SELECT total FROM infra_orders WHERE id = ${orderId}`), [
    { total: 42 },
  ]);
  await infra.timeSeries.write(point);
  assert.deepEqual(await infra.timeSeries.latest(point.series, point.tags), point);
  assert.equal(
    (await infra.llm.generate({ messages: [{ role: 'user', content: 'echo me' }] })).text,
    'echo me',
  );
  const topic = `infra-${randomUUID().slice(0, 8)}`;
  const received = Promise.withResolvers<number>();
  const subscription = infra.broker.subscribe<{ n: number }>(
    topic,
    (message) => {
      received.resolve(message.value.n);
      return Promise.resolve();
    },
    { group: 'infra-ports', fromBeginning: true },
  );
  await subscription.ready;
  await infra.broker.publish(topic, { value: { n: 7 } });
  assert.equal(await received.promise, 7);
}

async function checkEveryPort(env: Record<string, string>, secretName: string, secretValue: string) {
  const infra = await createInfrastructure(await loadConfig(env), silentRuntime());
  const app: StartableComponent = {
    id: 'app:http-server',
    health: () => Promise.resolve({ status: 'up' }),
    close: () => Promise.resolve(),
  };
  infra.register(app);
  const built = everyPort.map((port) => infra.get(port));
  const closes = recordCloses([...built, app]);
  try {
    await infra.start();
    await useEveryPort(infra, secretName, secretValue);
    const readiness = await infra.health.readiness();
    assert.equal(readiness.status, 'up');
    for (const component of [...built, app])
      assert.equal(
        readiness.checks[component.id]?.status,
        'up',
        `${component.id} is among the readiness checks`,
      );
  } finally {
    await infra.close();
  }
  // Reverse order of creation: the app's component (registered last), then the broker … secrets.
  assert.deepEqual(closes, [app.id, ...built.map((component) => component.id).reverse()]);
  return built.map((component) => component.id);
}

describe('createInfrastructure: every port from the environment', () => {
  const secretsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-infra-secrets-'));
  fs.writeFileSync(path.join(secretsDir, 'db-password'), 'from-a-file\n');
  let llm: LlmTestServer;
  before(async () => (llm = await startLlmServer({ apiKey: 'sk-infra-test' })));
  after(() => llm.close());

  it('on memory, each port named by its driver variable', async () => {
    const ids = await checkEveryPort(
      {
        SECRETS_DRIVER: 'file',
        SECRETS_DIR: secretsDir,
        CACHE_DRIVER: 'memory',
        DOCUMENT_STORE_DRIVER: 'memory',
        SQL_DRIVER: 'embedded',
        SQL_MIGRATIONS_DIR: migrationsDir,
        TIME_SERIES_DRIVER: 'memory',
        LLM_DRIVER: 'memory',
        EXECUTOR_DRIVER: 'memory',
        BROKER_DRIVER: 'memory',
      },
      'db-password',
      'from-a-file',
    );
    assert.deepEqual(ids, [
      'secrets:file',
      'cache:memory',
      'documents:memory',
      'sql:embedded',
      'time-series:memory',
      'llm:memory',
      'executor:memory',
      'broker:memory',
    ]);
  });

  it('builds nothing that is not configured, and says how to configure it', async () => {
    const infra = await createInfrastructure(await loadConfig({ CACHE_DRIVER: 'memory' }), silentRuntime());
    try {
      assert.equal(infra.has('cache'), true);
      assert.equal(infra.has('broker'), false);
      assert.throws(
        () => infra.broker,
        (error) => error instanceof ConfigError && /BROKER_DRIVER/.test(error.message),
      );
      assert.deepEqual(Object.keys((await infra.health.readiness()).checks), ['cache:memory']);
    } finally {
      await infra.close();
    }
  });

  const missing = Object.values(servers).find((server) => 'skip' in server);
  it(
    'on Key Vault (emulator), Redis, Kafka, MongoDB wire, PostgreSQL, Cassandra, the OpenAI wire and processes, with a second named cache',
    { skip: missing && 'skip' in missing ? missing.skip : false },
    async () => {
      const { redis, kafka, mongo, keyVault, cassandra, postgres } = servers;
      if (
        'skip' in redis ||
        'skip' in kafka ||
        'skip' in mongo ||
        'skip' in keyVault ||
        'skip' in cassandra ||
        'skip' in postgres
      )
        return;
      if (!keyVault.tenantId || !keyVault.clientId || !keyVault.clientSecret || !keyVault.authorityHost)
        assert.fail('the Key Vault emulator issues no tokens: this test needs its client credentials');
      // The key the LLM port reads by reference, put in the vault first.
      const vault = createAzureKeyVaultSecretStore(keyVaultOptions(keyVault), silentRuntime());
      await vault.set('infra-openai-key', 'sk-infra-test');
      await vault.close();
      const run = randomUUID().slice(0, 8);
      const env = {
        SECRETS_DRIVER: 'azure-keyvault',
        AZURE_KEYVAULT_URL: keyVault.url,
        AZURE_KEYVAULT_CA_FILE: keyVault.caFile,
        AZURE_KEYVAULT_TENANT_ID: keyVault.tenantId,
        AZURE_KEYVAULT_CLIENT_ID: keyVault.clientId,
        AZURE_KEYVAULT_CLIENT_SECRET: keyVault.clientSecret,
        AZURE_KEYVAULT_AUTHORITY_HOST: keyVault.authorityHost,
        AZURE_KEYVAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION: 'true',
        CACHE_DRIVER: 'redis',
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: `infra-${run}:`,
        SESSIONS_CACHE_DRIVER: 'redis',
        SESSIONS_REDIS_URL: redis.url,
        SESSIONS_REDIS_KEY_PREFIX: `sessions-${run}:`,
        DOCUMENT_STORE_DRIVER: 'mongodb',
        MONGODB_URL: mongo.url,
        MONGODB_DATABASE: 'berth_infra',
        SQL_DRIVER: 'postgres',
        POSTGRES_URL: postgres.url,
        SQL_MIGRATIONS_DIR: migrationsDir,
        TIME_SERIES_DRIVER: 'cassandra',
        CASSANDRA_CONTACT_POINTS: cassandra.contactPoints.join(','),
        CASSANDRA_LOCAL_DATACENTER: cassandra.localDataCenter,
        CASSANDRA_KEYSPACE: 'berth_infra',
        CASSANDRA_REPLICATION_FACTOR: '1',
        // The first write of a new server creates the keyspace and its tables.
        TIME_SERIES_TIMEOUT_MS: '15000',
        LLM_DRIVER: 'openai',
        OPENAI_API_KEY: 'secret://infra-openai-key',
        OPENAI_BASE_URL: `${llm.url}/v1`,
        LLM_MODEL: 'gpt-test',
        EXECUTOR_DRIVER: 'process',
        EXECUTOR_INHERIT_ENV: 'PATH',
        BROKER_DRIVER: 'kafka',
        KAFKA_BROKERS: kafka.brokers.join(','),
      };
      const ids = await checkEveryPort(env, 'infra-openai-key', 'sk-infra-test');
      assert.deepEqual(ids, [
        'secrets:azure_key_vault',
        'cache:redis',
        'documents:mongodb',
        'sql:postgresql',
        'time-series:cassandra',
        'llm:openai',
        'executor:process',
        'broker:kafka',
      ]);

      const infra = await createInfrastructure(await loadConfig(env), silentRuntime());
      try {
        const sessions = infra.get('cache', 'sessions');
        assert.equal(sessions.id, 'cache:sessions');
        await sessions.set('who', 'me');
        assert.equal(await sessions.get('who'), 'me');
        assert.equal(await infra.cache.get('who'), undefined, 'the two caches hold different keys');
        assert.equal((await infra.executor.run('node', ['-e', 'process.stdout.write("ran")'])).stdout, 'ran');
        assert.equal((await infra.health.readiness()).checks['cache:sessions']?.status, 'up');
      } finally {
        await infra.close();
      }
    },
  );
});
