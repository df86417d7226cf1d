export * from './ports/index.ts';
export * from './runtime/index.ts';
export * from './health/index.ts';
export * from './options/index.ts';
export {
  loadConfig,
  type BrokerConfig,
  type CacheConfig,
  type DocumentStoreConfig,
  type InfrastructureConfig,
  type LoadConfigOptions,
} from './composition/load-config.ts';
export { createInfrastructure, type Infrastructure } from './composition/infrastructure.ts';
