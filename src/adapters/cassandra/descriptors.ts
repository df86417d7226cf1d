import { defineAdapter } from '../../runtime/adapter-descriptor.ts';
import { tlsVariables } from '../shared/tls.ts';
import { cassandraTimeSeriesOptionsSchema, type CassandraTimeSeriesOptions } from './options.ts';

export const cassandraTimeSeriesAdapter = defineAdapter({
  port: 'timeSeries',
  driver: 'cassandra',
  options: cassandraTimeSeriesOptionsSchema,
  packages: ['cassandra-driver'],
  env: {
    CASSANDRA_CONTACT_POINTS: {
      option: 'contactPoints',
      kind: 'list',
      required: true,
      description: 'comma-separated host:port of one or more nodes',
    },
    CASSANDRA_LOCAL_DATACENTER: {
      option: 'localDataCenter',
      required: true,
      description: 'the data center whose nodes serve requests',
    },
    CASSANDRA_KEYSPACE: {
      option: 'keyspace',
      required: true,
      description: 'keyspace of the tables (lowercase)',
    },
    CASSANDRA_USERNAME: { option: 'credentials.username', description: 'for PasswordAuthenticator' },
    CASSANDRA_PASSWORD: {
      option: 'credentials.password',
      kind: 'secret',
      description: 'for PasswordAuthenticator',
    },
    ...tlsVariables('CASSANDRA'),
    CASSANDRA_CONSISTENCY: {
      option: 'consistency',
      description: 'of reads and writes: localQuorum (default), localOne, quorum, one, all, …',
    },
    // Stating a replication factor is the opt-in: a keyspace is never created by surprise.
    CASSANDRA_REPLICATION_FACTOR: {
      option: 'createSchema.replication.replicationFactor',
      kind: 'integer',
      description: 'creates keyspace and tables if missing, with this many replicas',
    },
    TIME_SERIES_BUCKET_MS: {
      option: 'bucketMs',
      kind: 'integer',
      description: 'time span of one partition of a stream (default 86400000, a day)',
    },
    TIME_SERIES_DEFAULT_TTL_MS: {
      option: 'defaultTtlMs',
      kind: 'integer',
      description: 'time to live of points written without one (default: kept)',
    },
  },
  create: async (options, runtime) =>
    (await import('./time-series.ts')).createCassandraTimeSeries(
      options as CassandraTimeSeriesOptions,
      runtime,
    ),
});
