export { createRedisCache, type RedisCache } from './cache.ts';
export { classifyRedisError } from './errors.ts';
export type { RedisCacheOptions } from '../../config/schemas.ts';
