// The secure variants of the test servers (TLS, real users; test/servers/certificates.ts makes their
// certificates): found like the others, with the files a client needs to trust them.
import fs from 'node:fs';
import type { KafkaBrokerOptions } from '../../src/adapters/kafka/index.ts';
import { Redacted } from '../../src/ports/redacted.ts';
import { findServer, type Skip } from './servers.ts';

/** A server's URL and the PEM files of the run: its CA, and a client certificate for mutual TLS. */
export interface SecureServer {
  readonly url: string;
  readonly caFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
}

async function findSecure(name: string, service: string, prefix: string): Promise<SecureServer | Skip> {
  const server = await findServer(name, { envVar: `${prefix}_URL`, service });
  if ('skip' in server) return server;
  // Only from where the URL came: a local service's files are never the environment's.
  const setting = (suffix: string): string =>
    (server.source === 'env' ? process.env[`${prefix}_${suffix}`] : server.env?.[`${prefix}_${suffix}`]) ??
    '';
  const files = {
    caFile: setting('CA_FILE'),
    clientCertFile: setting('CLIENT_CERT_FILE'),
    clientKeyFile: setting('CLIENT_KEY_FILE'),
  };
  const missing = Object.entries({
    CA_FILE: files.caFile,
    CLIENT_CERT_FILE: files.clientCertFile,
    CLIENT_KEY_FILE: files.clientKeyFile,
  }).filter(([, file]) => file === '');
  // A URL without the files to trust it is a broken setup, not a reason to skip.
  if (missing.length > 0)
    throw new Error(
      `${name} (${server.source}) has no ${missing.map(([key]) => `${prefix}_${key}`).join(', ')}`,
    );
  return { url: server.value, ...files };
}

/** Redis over TLS only, `default` disabled, an ACL user in the URL (`npm run services -- up redis-secure`). */
export const findRedisSecure = (): Promise<SecureServer | Skip> =>
  findSecure('redis (TLS, ACL user)', 'redis-secure', 'BERTH_REDIS_SECURE');

/** PostgreSQL with ssl=on, hostssl only and SCRAM (`npm run services -- up postgres-secure`). */
export const findPostgresSecure = (): Promise<SecureServer | Skip> =>
  findSecure('postgres (TLS only, SCRAM)', 'postgres-secure', 'BERTH_POSTGRES_SECURE');

/** berth's TDS server requiring encryption, a certificate of the run's CA (`npm run services -- up mssql-secure`). */
export const findMssqlSecure = (): Promise<SecureServer | Skip> =>
  findSecure('mssql (TDS server, encryption required)', 'mssql-secure', 'BERTH_MSSQL_SECURE');

/** A Kafka node's secure listeners: SASL_SSL with a SCRAM-SHA-512 user, and SSL wanting a client certificate. */
export interface SecureKafka {
  readonly saslBrokers: string[];
  readonly mtlsBrokers: string[];
  readonly username: string;
  readonly password: string;
  readonly caFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
}

/** The secure listeners of the `kafka` (3.9) or `kafka4` (4.4) service, whose variables start with `prefix`. */
export async function findKafkaSecure(service: 'kafka' | 'kafka4'): Promise<SecureKafka | Skip> {
  const prefix = service === 'kafka' ? 'BERTH_KAFKA' : 'BERTH_KAFKA4';
  const server = await findServer(`${service} (SASL_SSL, mutual TLS)`, {
    envVar: `${prefix}_SASL_SSL_BROKERS`,
    service,
  });
  if ('skip' in server) return server;
  const setting = (suffix: string): string => {
    const value =
      server.source === 'env' ? process.env[`${prefix}_${suffix}`] : server.env?.[`${prefix}_${suffix}`];
    if (!value) throw new Error(`${service} (${server.source}) has no ${prefix}_${suffix}`);
    return value;
  };
  return {
    saslBrokers: server.value.split(','),
    mtlsBrokers: setting('MTLS_BROKERS').split(','),
    username: setting('SCRAM_USERNAME'),
    password: setting('SCRAM_PASSWORD'),
    caFile: setting('CA_FILE'),
    clientCertFile: setting('CLIENT_CERT_FILE'),
    clientKeyFile: setting('CLIENT_KEY_FILE'),
  };
}

/**
 * Options for each secure listener, named for a test's title: both Kafka drivers take the same
 * options, so their conformance over TLS connects alike.
 */
export function kafkaSecureListeners(kafka: SecureKafka): [string, KafkaBrokerOptions][] {
  const ca = fs.readFileSync(kafka.caFile, 'utf8');
  return [
    [
      'SASL_SSL, SCRAM-SHA-512',
      {
        brokers: kafka.saslBrokers,
        tls: { ca },
        sasl: {
          mechanism: 'scram-sha-512',
          username: kafka.username,
          password: new Redacted(kafka.password),
        },
      },
    ],
    [
      'mutual TLS',
      {
        brokers: kafka.mtlsBrokers,
        tls: {
          ca,
          cert: fs.readFileSync(kafka.clientCertFile, 'utf8'),
          key: fs.readFileSync(kafka.clientKeyFile, 'utf8'),
        },
      },
    ],
  ];
}

/** FerretDB's TLS listener, which requires a client certificate of the run's CA (the `mongodb` service). */
export const findMongoMtls = (): Promise<SecureServer | Skip> =>
  findSecure('mongodb (FerretDB, mutual TLS)', 'mongodb', 'BERTH_MONGODB_MTLS');

/** Cassandra with PasswordAuthenticator and CQL over TLS only (`npm run services -- up cassandra-secure`). */
export async function findCassandraSecure(): Promise<
  (SecureServer & { localDataCenter: string; username: string; password: string }) | Skip
> {
  const server = await findSecure(
    'cassandra (TLS only, PasswordAuthenticator)',
    'cassandra-secure',
    'BERTH_CASSANDRA_SECURE',
  );
  if ('skip' in server) return server;
  const found = await findServer('cassandra (TLS only, PasswordAuthenticator)', {
    envVar: 'BERTH_CASSANDRA_SECURE_URL',
  });
  const setting = (suffix: string): string =>
    ('skip' in found
      ? undefined
      : found.source === 'env'
        ? process.env[`BERTH_CASSANDRA_SECURE_${suffix}`]
        : found.env?.[`BERTH_CASSANDRA_SECURE_${suffix}`]) ?? '';
  return {
    ...server,
    localDataCenter: setting('DATACENTER') || 'datacenter1',
    username: setting('USERNAME'),
    password: setting('PASSWORD'),
  };
}
