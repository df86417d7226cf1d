export { parseOptions } from './validate.ts';
export * from './schemas.ts';
export { loadConfig, type CacheConfig, type InfrastructureConfig } from './load-config.ts';
