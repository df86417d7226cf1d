import { defineAdapter, type EnvVariable } from '../../runtime/adapter-descriptor.ts';
import { tlsVariables } from '../shared/tls.ts';
import {
  redisBrokerOptionsSchema,
  redisCacheOptionsSchema,
  type RedisBrokerOptions,
  type RedisCacheOptions,
} from './options.ts';

// REDIS_URL or REDIS_CLUSTER_NODES, not both: the options schema names REDIS_URL when neither is set.
const connection: Record<string, EnvVariable> = {
  REDIS_URL: { option: 'url', description: 'redis:// or rediss:// URL of one server' },
  REDIS_CLUSTER_NODES: {
    option: 'cluster.nodes',
    kind: 'list',
    description: 'Redis Cluster instead of REDIS_URL: host:port of some of its nodes, comma-separated',
  },
  REDIS_CLUSTER_TLS: { option: 'cluster.tls', kind: 'boolean', description: 'TLS to every cluster node' },
  REDIS_CLUSTER_USERNAME: { option: 'cluster.username', description: 'ACL user on every cluster node' },
  REDIS_PASSWORD: {
    option: 'password',
    kind: 'secret',
    description: "overrides a password in the URL; a cluster's password",
  },
  ...tlsVariables('REDIS'),
};

export const redisCacheAdapter = defineAdapter({
  port: 'cache',
  driver: 'redis',
  options: redisCacheOptionsSchema,
  packages: ['redis'],
  env: {
    ...connection,
    REDIS_KEY_PREFIX: { option: 'keyPrefix', description: 'prepended to every key' },
  },
  create: async (options, runtime) =>
    (await import('./cache.ts')).createRedisCache(options as RedisCacheOptions, runtime),
});

export const redisBrokerAdapter = defineAdapter({
  port: 'broker',
  driver: 'redis',
  options: redisBrokerOptionsSchema,
  packages: ['redis'],
  env: {
    ...connection,
    REDIS_STREAM_PREFIX: {
      option: 'streamPrefix',
      description: "prepended to a topic to name its stream (default 'stream:')",
    },
  },
  create: async (options, runtime) =>
    (await import('./broker.ts')).createRedisBroker(options as RedisBrokerOptions, runtime),
});
