export { createRedisCache, type RedisCache } from './cache.ts';
export { classifyRedisError } from './errors.ts';
export type { RedisCacheOptions } from '../../options/schemas.ts';
export { createRedisBroker, type RedisBroker } from './broker.ts';
export type { RedisBrokerOptions } from '../../options/schemas.ts';
