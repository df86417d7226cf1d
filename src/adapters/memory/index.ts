export { createMemoryCache } from './cache.ts';
export type { MemoryCacheOptions } from '../../config/schemas.ts';
export { createMemoryBroker, type MemoryBrokerOptions } from './broker.ts';
