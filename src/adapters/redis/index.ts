export { createRedisCache, type RedisCache } from './cache.ts';
export { classifyRedisError } from './errors.ts';
export type { RedisCacheOptions, RedisBrokerOptions } from './options.ts';
export { createRedisBroker, type RedisBroker } from './broker.ts';
