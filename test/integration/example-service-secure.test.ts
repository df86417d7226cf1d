// The example service (npm start) against the secure variants with environment variables only (#26):
// Redis over TLS as an ACL user, Kafka over SASL_SSL with SCRAM, PostgreSQL over TLS with SCRAM,
// FerretDB over mutual TLS, Cassandra over TLS with a login; every password a secret:// reference
// to a mounted secrets folder. The README's lines are these (secureExampleEnv). A greeting goes
// through each backend; no secret shows in the service's output.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { killStartedProcesses, startExampleService, statusOf } from '../support/example-service.ts';
import { secretsFolder } from '../support/rotation.ts';
import { serverSecrets } from '../support/secret-watch.ts';
import {
  findCassandraSecure,
  findKafkaSecure,
  findMongoMtls,
  findPostgresSecure,
  findRedisSecure,
} from '../support/secure-servers.ts';
import { waitFor } from '../support/wait.ts';

const servers = {
  redis: await findRedisSecure(),
  kafka: await findKafkaSecure('kafka'),
  postgres: await findPostgresSecure(),
  mongo: await findMongoMtls(),
  cassandra: await findCassandraSecure(),
};
const skipped = Object.values(servers).find((server) => 'skip' in server);
after(killStartedProcesses);

/** `scheme://user@host/path`: the URL without its password, which goes to the secrets folder. */
function withoutPassword(url: string): { url: string; password: string } {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  return { url: parsed.toString().replace(/\/$/, ''), password };
}

describe(
  'example service on the secure variants, from the environment only',
  { skip: skipped?.skip ?? false },
  () => {
    const { redis, kafka, postgres, mongo, cassandra } = servers;
    if ('skip' in redis || 'skip' in kafka || 'skip' in postgres || 'skip' in mongo || 'skip' in cassandra)
      return;
    const secrets = secretsFolder();
    after(() => secrets.remove());

    it('greets through TLS, mutual TLS, ACL users and SCRAM, and shows no secret', async () => {
      const redisLogin = withoutPassword(redis.url);
      const postgresLogin = withoutPassword(postgres.url);
      secrets.write('redis-password', redisLogin.password);
      secrets.write('kafka-password', kafka.password);
      secrets.write('postgres-password', postgresLogin.password);
      secrets.write('cassandra-password', cassandra.password);
      const env = {
        SECRETS_DRIVER: 'file',
        SECRETS_DIR: secrets.dir,
        CACHE_DRIVER: 'redis',
        REDIS_URL: redisLogin.url,
        REDIS_PASSWORD: 'secret://redis-password',
        REDIS_TLS_CA_FILE: redis.caFile,
        BROKER_DRIVER: 'kafka',
        KAFKA_BROKERS: kafka.saslBrokers.join(','),
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: kafka.username,
        KAFKA_SASL_PASSWORD: 'secret://kafka-password',
        KAFKA_TLS_CA_FILE: kafka.caFile,
        SQL_DRIVER: 'postgres',
        POSTGRES_URL: postgresLogin.url,
        POSTGRES_PASSWORD: 'secret://postgres-password',
        POSTGRES_TLS_CA_FILE: postgres.caFile,
        DOCUMENT_STORE_DRIVER: 'mongodb',
        MONGODB_URL: mongo.url,
        MONGODB_DATABASE: 'berth_example',
        MONGODB_TLS_CA_FILE: mongo.caFile,
        MONGODB_TLS_CERT_FILE: mongo.clientCertFile,
        MONGODB_TLS_KEY_FILE: mongo.clientKeyFile,
        TIME_SERIES_DRIVER: 'cassandra',
        CASSANDRA_CONTACT_POINTS: cassandra.url,
        CASSANDRA_LOCAL_DATACENTER: cassandra.localDataCenter,
        CASSANDRA_KEYSPACE: 'berth_example',
        CASSANDRA_REPLICATION_FACTOR: '1',
        CASSANDRA_USERNAME: cassandra.username,
        CASSANDRA_PASSWORD: 'secret://cassandra-password',
        CASSANDRA_TLS_CA_FILE: cassandra.caFile,
        HEALTH_DETAILS: 'true',
      };
      const service = await startExampleService(env);
      try {
        const health = (await (await fetch(`${service.base}/healthz`)).json()) as {
          status: string;
          checks: Record<string, { status: string }>;
        };
        assert.equal(health.status, 'up', JSON.stringify(health));
        const name = `secure-${randomBytes(4).toString('hex')}`;
        for (let n = 0; n < 2; n++)
          assert.equal(await statusOf(`${service.base}/greet/${name}`), 200, service.output().slice(-2_000));
        // From the cache over TLS, through Kafka over SASL_SSL, counted in PostgreSQL over TLS.
        const counted = async (): Promise<boolean> => {
          const body = (await (await fetch(`${service.base}/greeted/${name}`)).json()) as { count?: number };
          return body.count === 2;
        };
        await waitFor('both greetings counted from their events', counted, 30_000, { everyMs: 250 });
        const stats = (await (await fetch(`${service.base}/stats/${name}`)).json()) as {
          perMinute: { count: number }[];
        };
        assert.ok(
          stats.perMinute.some((minute) => minute.count >= 1),
          JSON.stringify(stats),
        );
        assert.equal(await statusOf(`${service.base}/readyz`), 200);
      } finally {
        assert.equal(await service.stop(), 0, service.output().slice(-2_000));
      }
      const output = service.output();
      const all = {
        ...serverSecrets(redis),
        ...serverSecrets(kafka),
        ...serverSecrets(postgres),
        ...serverSecrets(mongo),
        ...serverSecrets(cassandra),
      };
      for (const [what, value] of Object.entries(all))
        assert.equal(output.includes(value), false, `${what} showed in the service's output`);
      console.log(
        `example service on the secure variants: ${output.trim().split('\n').length} log lines, no secret`,
      );
    });
  },
);
