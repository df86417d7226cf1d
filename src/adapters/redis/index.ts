export { createRedisCache, type RedisCache } from './cache.ts';
export { classifyRedisError } from './errors.ts';
export type { RedisCacheOptions } from '../../config/schemas.ts';
export { createRedisBroker, type RedisBroker } from './broker.ts';
export type { RedisBrokerOptions } from '../../config/schemas.ts';
