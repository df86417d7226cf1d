import type { PortName } from '../runtime/adapter-descriptor.ts';
import type { MemoryBrokerOptions } from '../adapters/memory/broker.ts';
import type { MemoryExecutorOptions } from '../adapters/memory/executor.ts';
import type { MemoryLlmClientOptions } from '../adapters/memory/llm-client.ts';
import type {
  MemoryDocumentStoreOptions,
  MongoBrokerOptions,
  MongoDocumentStoreOptions,
} from '../options/document-store-schemas.ts';
import type { ProcessExecutorOptions } from '../options/executor-schemas.ts';
import type {
  AzureOpenAiClientOptions,
  OllamaClientOptions,
  OpenAiClientOptions,
} from '../options/llm-schemas.ts';
import type {
  KafkaBrokerOptions,
  MemoryCacheOptions,
  RedisBrokerOptions,
  RedisCacheOptions,
} from '../options/schemas.ts';
import type {
  AzureKeyVaultSecretStoreOptions,
  EnvSecretStoreOptions,
  FileSecretStoreOptions,
  MemorySecretStoreOptions,
} from '../options/secret-store-schemas.ts';
import type { CassandraTimeSeriesOptions, MemoryTimeSeriesOptions } from '../options/time-series-schemas.ts';

export interface PortSpec {
  /** `<PREFIX>_DRIVER` picks the driver; `<PREFIX>_TIMEOUT_MS` sets `policies.timeoutMs`. */
  readonly envPrefix: string;
  /** Down makes readiness down (true) or degraded (false). */
  readonly critical: boolean;
  /** First part of component ids, as the guarded ports write it: a named instance is `<idPrefix>:<name>`. */
  readonly idPrefix: string;
}

/**
 * Every port of the composition root, in the order they are built (and closed in reverse):
 * secrets first, as other adapters' credentials may come from it; the broker last, so that
 * handlers still running while it closes can use everything else.
 */
export const ports: Readonly<Record<PortName, PortSpec>> = {
  secrets: { idPrefix: 'secrets', envPrefix: 'SECRETS', critical: true },
  cache: { idPrefix: 'cache', envPrefix: 'CACHE', critical: true },
  documents: { idPrefix: 'documents', envPrefix: 'DOCUMENT_STORE', critical: true },
  timeSeries: { idPrefix: 'time-series', envPrefix: 'TIME_SERIES', critical: true },
  // A language model that is down degrades a service; it should not take it out of rotation.
  llm: { idPrefix: 'llm', envPrefix: 'LLM', critical: false },
  executor: { idPrefix: 'executor', envPrefix: 'EXECUTOR', critical: true },
  broker: { idPrefix: 'broker', envPrefix: 'BROKER', critical: true },
};
export const portNames = Object.keys(ports) as PortName[];

// Options of each driver, by driver name. Interfaces, so that a package adding a driver can
// declare its options by module augmentation.
export interface CacheDrivers {
  memory: MemoryCacheOptions;
  redis: RedisCacheOptions;
}
export interface BrokerDrivers {
  memory: MemoryBrokerOptions;
  kafka: KafkaBrokerOptions;
  redis: RedisBrokerOptions;
  mongodb: MongoBrokerOptions;
}
export interface DocumentStoreDrivers {
  memory: MemoryDocumentStoreOptions;
  mongodb: MongoDocumentStoreOptions;
}
export interface TimeSeriesDrivers {
  memory: MemoryTimeSeriesOptions;
  cassandra: CassandraTimeSeriesOptions;
}
export interface SecretStoreDrivers {
  memory: MemorySecretStoreOptions;
  env: EnvSecretStoreOptions;
  file: FileSecretStoreOptions;
  'azure-keyvault': AzureKeyVaultSecretStoreOptions;
}
export interface LlmClientDrivers {
  memory: MemoryLlmClientOptions;
  openai: OpenAiClientOptions;
  'azure-openai': AzureOpenAiClientOptions;
  ollama: OllamaClientOptions;
}
export interface ExecutorDrivers {
  memory: MemoryExecutorOptions;
  process: ProcessExecutorOptions;
}

type DriverConfig<Drivers> = { [D in keyof Drivers]: { driver: D } & Drivers[D] }[keyof Drivers];
export type CacheConfig = DriverConfig<CacheDrivers>;
export type BrokerConfig = DriverConfig<BrokerDrivers>;
export type DocumentStoreConfig = DriverConfig<DocumentStoreDrivers>;
export type TimeSeriesConfig = DriverConfig<TimeSeriesDrivers>;
export type SecretStoreConfig = DriverConfig<SecretStoreDrivers>;
export type LlmClientConfig = DriverConfig<LlmClientDrivers>;
export type ExecutorConfig = DriverConfig<ExecutorDrivers>;

export interface PortConfigs {
  cache: CacheConfig;
  broker: BrokerConfig;
  documents: DocumentStoreConfig;
  timeSeries: TimeSeriesConfig;
  secrets: SecretStoreConfig;
  llm: LlmClientConfig;
  executor: ExecutorConfig;
}

/** Each port's instance named `default`, and more instances by port and name. */
export type InfrastructureConfig = { [P in PortName]?: PortConfigs[P] } & {
  instances?: { [P in PortName]?: Readonly<Record<string, PortConfigs[P]>> };
};
