/**
 * The chaos subjects: each real backend this machine runs, with a Toxiproxy proxy in front of it
 * and a berth adapter connected through the proxy only. Every subject has the same policies, so
 * the cells of the table compare backends, not settings.
 */
import fs from 'node:fs';
import { after, describe, it } from 'node:test';
import { createAzureKeyVaultSecretStore } from '../../src/adapters/azure-keyvault/index.ts';
import { createCassandraTimeSeries } from '../../src/adapters/cassandra/index.ts';
import { createKafkaBroker } from '../../src/adapters/kafka/index.ts';
import { createPlatformaticKafkaBroker } from '../../src/adapters/platformatic-kafka/index.ts';
import { createMongoDocumentStore } from '../../src/adapters/mongodb/index.ts';
import { createPostgresDatabase } from '../../src/adapters/postgres/index.ts';
import { createRedisCache } from '../../src/adapters/redis/index.ts';
import { sql } from '../../src/ports/index.ts';
import type { PolicyOverrides } from '../../src/runtime/index.ts';
import {
  assertCell,
  chaosToxics,
  ciCellOptions,
  formatRow,
  runCell,
  type CellOptions,
  type ChaosSubject,
} from './chaos.ts';
import { keyVaultOptions } from './keyvault.ts';
import { ownService } from './own-service.ts';
import { silentRuntime } from './runtime.ts';
import {
  findCassandra,
  findKafka,
  findKeyVault,
  findMongo,
  findPostgres,
  findRedis,
  findServer,
  type Skip,
} from './servers.ts';
import { ToxiproxyClient, type ToxiProxy } from './toxiproxy.ts';

export const chaosBackends = [
  'redis',
  'kafka',
  'platformatic-kafka',
  'mongodb',
  'keyvault',
  'cassandra',
  'postgres',
] as const;
export type ChaosBackend = (typeof chaosBackends)[number];

/** The deadline of every call: a per-attempt timeout that is also the call's whole budget. */
export const chaosDeadlineMs = 1_000;

// Retries only of quick failures (the budget is the deadline); the breaker opens after five
// failures and tries again after a second, so recovery is measured in seconds, not minutes.
const policies: PolicyOverrides = {
  timeoutMs: chaosDeadlineMs,
  healthTimeoutMs: 500,
  retry: { maxAttempts: 2, initialDelayMs: 20, maxDelayMs: 50 },
  breaker: { consecutiveFailures: 5, halfOpenAfterMs: 1_000 },
};

export async function findToxiproxy(): Promise<ToxiproxyClient | Skip> {
  const server = await findServer('toxiproxy', { envVar: 'TOXIPROXY_URL', service: 'toxiproxy' });
  return 'skip' in server ? server : new ToxiproxyClient(server.value);
}

/** `host:port` of a URL, for a proxy's upstream. */
function hostPort(url: string, defaultPort: number): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || defaultPort}`;
}

/** The same URL pointing at the proxy. */
function viaProxy(url: string, proxy: ToxiProxy): string {
  const parsed = new URL(url);
  parsed.hostname = proxy.host;
  parsed.port = String(proxy.port);
  return parsed.toString();
}

const proxyName = (backend: ChaosBackend): string => `berth-chaos-${backend}-${process.pid}`;

/** Opens the subject of `backend`, or says why it cannot run here. */
export async function openChaosSubject(backend: ChaosBackend): Promise<ChaosSubject | Skip> {
  const toxiproxy = await findToxiproxy();
  if ('skip' in toxiproxy) return toxiproxy;
  switch (backend) {
    case 'redis':
      return redisSubject(toxiproxy);
    case 'kafka':
      return kafkaSubject(toxiproxy, backend, createKafkaBroker);
    case 'platformatic-kafka':
      return kafkaSubject(toxiproxy, backend, createPlatformaticKafkaBroker);
    case 'mongodb':
      return mongoSubject(toxiproxy);
    case 'keyvault':
      return keyVaultSubject(toxiproxy);
    case 'cassandra':
      return cassandraSubject(toxiproxy);
    case 'postgres':
      return postgresSubject(toxiproxy);
  }
}

async function redisSubject(toxiproxy: ToxiproxyClient): Promise<ChaosSubject | Skip> {
  const redis = await findRedis();
  if ('skip' in redis) return redis;
  const proxy = await toxiproxy.createProxy({
    name: proxyName('redis'),
    upstream: hostPort(redis.url, 6379),
  });
  const cache = createRedisCache(
    { url: viaProxy(redis.url, proxy), keyPrefix: `chaos:${process.pid}:`, policies },
    silentRuntime(),
  );
  const value = 'v'.repeat(64);
  return {
    backend: 'redis cache',
    proxy,
    deadlineMs: chaosDeadlineMs,
    call: (i) => (i % 2 === 0 ? cache.set(`k${i % 100}`, value) : cache.get(`k${i % 100}`)),
    health: () => cache.health(),
    close: async () => {
      await cache.close();
      await proxy.delete();
    },
  };
}

/**
 * A Kafka node of its own whose advertised listener is the proxy: kafkajs connects to the
 * addresses the cluster's metadata gives, so a proxy in front of the shared node would carry only
 * the first metadata request.
 */
async function kafkaSubject(
  toxiproxy: ToxiproxyClient,
  backend: 'kafka' | 'platformatic-kafka',
  create: typeof createKafkaBroker | typeof createPlatformaticKafkaBroker,
): Promise<ChaosSubject | Skip> {
  const shared = await findKafka(); // the skip rules of every Kafka test; the node here is its own
  if ('skip' in shared) return shared;
  // The node must know the port it advertises before it starts: a placeholder proxy reserves one.
  const proxy = await toxiproxy.createProxy({ name: proxyName(backend), upstream: '127.0.0.1:9' });
  process.env['BERTH_KAFKA_ADVERTISED_PORT'] = String(proxy.port);
  const node = await ownService('kafka').finally(() => delete process.env['BERTH_KAFKA_ADVERTISED_PORT']);
  await proxy.delete();
  const routed = await toxiproxy.createProxy({
    name: proxyName(backend),
    upstream: `127.0.0.1:${node.port}`,
    listen: proxy.address,
  });
  await node.services('up', 'kafka').catch(async (error: unknown) => {
    await routed.delete();
    fs.rmSync(node.stateDir, { recursive: true, force: true });
    throw error;
  });
  const broker = create({ brokers: [routed.address], policies }, silentRuntime());
  const topic = `chaos-${process.pid}`;
  const pad = 'p'.repeat(64);
  return {
    backend: `${backend} publish`,
    proxy: routed,
    deadlineMs: chaosDeadlineMs,
    call: (i) => broker.publish(topic, { key: `k${i % 10}`, value: { i, pad } }),
    health: () => broker.health(),
    close: async () => {
      await broker.close();
      await routed.delete();
      await node.services('down', 'kafka');
      fs.rmSync(node.stateDir, { recursive: true, force: true });
    },
  };
}

async function mongoSubject(toxiproxy: ToxiproxyClient): Promise<ChaosSubject | Skip> {
  const mongo = await findMongo();
  if ('skip' in mongo) return mongo;
  const proxy = await toxiproxy.createProxy({
    name: proxyName('mongodb'),
    upstream: hostPort(mongo.url, 27017),
  });
  const store = createMongoDocumentStore(
    { url: viaProxy(mongo.url, proxy), database: 'berth_chaos', policies },
    silentRuntime(),
  );
  const documents = store.collection<{ n: number }>(`chaos_${process.pid}`);
  return {
    backend: 'mongodb documents',
    proxy,
    deadlineMs: chaosDeadlineMs,
    call: (i) => (i % 2 === 0 ? documents.insert({ n: i }) : documents.get(`missing-${i % 100}`)),
    health: () => store.health(),
    close: async () => {
      await store.close();
      await proxy.delete();
    },
  };
}

async function keyVaultSubject(toxiproxy: ToxiproxyClient): Promise<ChaosSubject | Skip> {
  const vault = await findKeyVault();
  if ('skip' in vault) return vault;
  const proxy = await toxiproxy.createProxy({
    name: proxyName('keyvault'),
    upstream: hostPort(vault.url, 443),
  });
  // The vault through the proxy (TLS end to end); tokens from the emulator's Entra ID endpoint
  // directly, which is another service in Azure (and its metadata names its own address).
  const throughProxy = {
    ...vault,
    url: viaProxy(vault.url, proxy).replace(/\/$/, ''),
    authorityHost: vault.authorityHost ?? vault.url,
  };
  const secrets = createAzureKeyVaultSecretStore(
    keyVaultOptions(throughProxy, { policies, purgeOnDelete: false }),
    silentRuntime(),
  );
  const name = `chaos-${process.pid}`;
  await secrets.set(name, 'chaos value').catch(async (error: unknown) => {
    await secrets.close();
    await proxy.delete();
    throw error;
  });
  return {
    backend: 'keyvault secrets',
    proxy,
    deadlineMs: chaosDeadlineMs,
    call: () => secrets.get(name),
    health: () => secrets.health(),
    close: async () => {
      await secrets.close();
      await proxy.delete();
    },
  };
}

/**
 * One node: the driver keeps the contact point's address (the proxy) for the node it connected
 * to, and learns no peer whose address would need translating.
 */
async function cassandraSubject(toxiproxy: ToxiproxyClient): Promise<ChaosSubject | Skip> {
  const cassandra = await findCassandra();
  if ('skip' in cassandra) return cassandra;
  const proxy = await toxiproxy.createProxy({
    name: proxyName('cassandra'),
    upstream: cassandra.contactPoints[0]!,
  });
  const store = createCassandraTimeSeries(
    {
      contactPoints: [proxy.address],
      localDataCenter: cassandra.localDataCenter,
      keyspace: 'berth_chaos',
      createSchema: { replication: { replicationFactor: 1 } },
      policies,
    },
    silentRuntime(),
  );
  const client = store.client();
  const tags = { run: String(process.pid) };
  return {
    backend: 'cassandra time series',
    proxy,
    deadlineMs: chaosDeadlineMs,
    call: (i) =>
      i % 2 === 0
        ? store.write({ series: 'chaos', tags, time: Date.now(), fields: { i } })
        : store.latest('chaos', tags),
    health: () => store.health(),
    pending: () => {
      const state = client.getState();
      return state.getConnectedHosts().reduce((sum, host) => sum + state.getInFlightQueries(host), 0);
    },
    close: async () => {
      await store.close();
      await proxy.delete();
    },
  };
}

async function postgresSubject(toxiproxy: ToxiproxyClient): Promise<ChaosSubject | Skip> {
  const postgres = await findPostgres();
  if ('skip' in postgres) return postgres;
  const proxy = await toxiproxy.createProxy({
    name: proxyName('postgres'),
    upstream: hostPort(postgres.url, 5432),
  });
  // The SQL port bounds the wait for a connection apart from the statement's deadline: together
  // they make the call's deadline.
  const acquireTimeoutMs = 250;
  const statementMs = chaosDeadlineMs - acquireTimeoutMs;
  const db = createPostgresDatabase(
    {
      url: viaProxy(postgres.url, proxy),
      poolSize: 4,
      acquireTimeoutMs,
      connectTimeoutMs: statementMs,
      policies: { ...policies, timeoutMs: statementMs },
    },
    silentRuntime(),
  );
  const pool = db.pool();
  return {
    backend: 'postgres sql',
    proxy,
    deadlineMs: chaosDeadlineMs,
    call: (i) => db.query(sql`SELECT ${i}::int AS n, repeat('x', 64) AS pad`),
    health: () => db.health(),
    // Connections lent out plus callers waiting for one (the probe's spare connection included).
    pending: () => pool.totalCount - pool.idleCount + pool.waitingCount,
    close: async () => {
      await db.close();
      await proxy.delete();
    },
  };
}

/**
 * The test file of one backend: a cell per toxic, in order, on one adapter object (a later cell
 * starts only once the earlier one's toxic is gone and the adapter answers again). Each cell
 * prints its row of the table before asserting.
 */
export async function describeChaos(
  backend: ChaosBackend,
  options: CellOptions = ciCellOptions,
): Promise<void> {
  const subject = await openChaosSubject(backend);
  describe(`chaos: ${backend} behind toxiproxy`, { skip: 'skip' in subject ? subject.skip : false }, () => {
    after(() => ('skip' in subject ? undefined : subject.close()));
    for (const toxic of chaosToxics) {
      it(`${toxic}: calls settle by their deadline with the right reason, readiness follows, then it recovers`, async () => {
        if ('skip' in subject) return;
        const result = await runCell(subject, toxic, options);
        process.stdout.write(`${formatRow(result)}\n`);
        assertCell(result);
      });
    }
  });
}
