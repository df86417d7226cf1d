export { loadConfig, type LoadConfigOptions } from './load-config.ts';
export {
  createInfrastructure,
  type DefaultInstances,
  type Infrastructure,
  type InfrastructureOptions,
} from './infrastructure.ts';
export { AdapterRegistry, builtinAdapters } from './builtin-adapters.ts';
export {
  ports,
  type BrokerConfig,
  type BrokerDrivers,
  type CacheConfig,
  type CacheDrivers,
  type DocumentStoreConfig,
  type DocumentStoreDrivers,
  type ExecutorConfig,
  type ExecutorDrivers,
  type InfrastructureConfig,
  type LlmClientConfig,
  type LlmClientDrivers,
  type PortConfigs,
  type PortSpec,
  type SecretStoreConfig,
  type SqlConfig,
  type SqlDrivers,
  type SecretStoreDrivers,
  type TimeSeriesConfig,
  type TimeSeriesDrivers,
} from './ports.ts';
export { handleShutdownSignals, type ShutdownSignalOptions } from './shutdown-signals.ts';
