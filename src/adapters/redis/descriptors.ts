import { defineAdapter, type EnvVariable } from '../../runtime/adapter-descriptor.ts';
import {
  redisBrokerOptionsSchema,
  redisCacheOptionsSchema,
  type RedisBrokerOptions,
  type RedisCacheOptions,
} from '../../options/schemas.ts';

const connection: Record<string, EnvVariable> = {
  REDIS_URL: { option: 'url', required: true, description: 'redis:// or rediss:// URL' },
  REDIS_PASSWORD: { option: 'password', kind: 'secret', description: 'overrides a password in the URL' },
};

export const redisCacheAdapter = defineAdapter({
  port: 'cache',
  driver: 'redis',
  options: redisCacheOptionsSchema,
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
