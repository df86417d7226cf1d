import {
  brokerPort,
  cachePort,
  documentStorePort,
  executorPort,
  llmClientPort,
  secretStorePort,
  sqlDatabasePort,
  timeSeriesPort,
} from '../ports/index.ts';
import type { PortDefinition } from '../ports/component.ts';
import type { EnvVariable, PortName } from '../runtime/adapter-descriptor.ts';
import type { MemoryBrokerOptions } from '../adapters/memory/broker.ts';
import type { MemoryExecutorOptions } from '../adapters/memory/executor.ts';
import type { MemoryLlmClientOptions } from '../adapters/memory/llm-client.ts';
import type {
  MemoryDocumentStoreOptions,
  MemoryCacheOptions,
  MemorySecretStoreOptions,
  MemoryTimeSeriesOptions,
} from '../adapters/memory/options.ts';
import type { MongoBrokerOptions, MongoDocumentStoreOptions } from '../adapters/mongodb/options.ts';
import type { ProcessExecutorOptions } from '../adapters/process/options.ts';
import type { AzureOpenAiClientOptions, OpenAiClientOptions } from '../adapters/openai/options.ts';
import type { OllamaClientOptions } from '../adapters/ollama/options.ts';
import type { KafkaBrokerOptions } from '../adapters/kafka/options.ts';
import type { RedisBrokerOptions, RedisCacheOptions } from '../adapters/redis/options.ts';
import type { AzureKeyVaultSecretStoreOptions } from '../adapters/azure-keyvault/options.ts';
import type { EnvSecretStoreOptions } from '../adapters/env/options.ts';
import type { FileSecretStoreOptions } from '../adapters/file/options.ts';
import type { EmbeddedDatabaseOptions, PostgresDatabaseOptions } from '../adapters/postgres/options.ts';
import type { MssqlDatabaseOptions } from '../adapters/mssql/options.ts';
import type { CassandraTimeSeriesOptions } from '../adapters/cassandra/options.ts';

export interface PortSpec {
  /** `<PREFIX>_DRIVER` picks the driver; `<PREFIX>_TIMEOUT_MS` sets `policies.timeoutMs`, `<PREFIX>_TOTAL_TIMEOUT_MS` `policies.totalTimeoutMs`. */
  readonly envPrefix: string;
  /** Down makes readiness down (true) or degraded (false). */
  readonly critical: boolean;
  /** First part of component ids, as the guarded ports write it: a named instance is `<idPrefix>:<name>`. */
  readonly idPrefix: string;
  /** The driver that needs no server, for `memoryDefaults` and test infrastructure. */
  readonly inMemoryDriver: string;
  /** Variables every driver of the port reads (options of what berth does around the driver). */
  readonly env?: Readonly<Record<string, EnvVariable>>;
}

/** What the SqlDatabase port does around any driver: migrations and the connection queue. */
const sqlPortVariables: Readonly<Record<string, EnvVariable>> = {
  SQL_MIGRATIONS_DIR: {
    option: 'migrationsDirectory',
    description: 'folder of *.sql migrations applied by start(), in file-name order',
  },
  SQL_ACQUIRE_TIMEOUT_MS: {
    option: 'acquireTimeoutMs',
    kind: 'integer',
    description: 'wait for a free connection before timeout (default 1000)',
  },
  SQL_MAX_WAITING: {
    option: 'maxWaiting',
    kind: 'integer',
    description: 'calls waiting for a connection at most, then rate_limited (default 1000)',
  },
};

// In the order they are built (and closed in reverse): secrets first, as other adapters'
// credentials may come from it; the broker last, so that handlers still running while it closes
// can use everything else.
const buildOrder: readonly PortDefinition[] = [
  secretStorePort,
  cachePort,
  documentStorePort,
  sqlDatabasePort,
  timeSeriesPort,
  llmClientPort,
  executorPort,
  brokerPort,
];
// Variables a port reads besides its deadline and budget, whatever its driver.
const portEnv: Partial<Record<PortName, Readonly<Record<string, EnvVariable>>>> = { sql: sqlPortVariables };

/** Every port of the composition root, from the ports' own definitions, in build order. */
export const ports = Object.fromEntries(
  buildOrder.map(({ key, envPrefix, critical, idPrefix, inMemoryDriver }) => [
    key,
    {
      envPrefix,
      critical,
      idPrefix,
      inMemoryDriver,
      ...(portEnv[key as PortName] && { env: portEnv[key as PortName] }),
    },
  ]),
) as Readonly<Record<PortName, PortSpec>>;
export const portNames = Object.keys(ports) as PortName[];

/** The variables of a port that every driver reads: its deadline, budget and rate limit, and the port's own. */
export function portVariables(port: PortName): Record<string, EnvVariable> {
  return {
    [`${ports[port].envPrefix}_TIMEOUT_MS`]: {
      option: 'policies.timeoutMs',
      kind: 'integer',
      description: 'deadline of one attempt',
    },
    [`${ports[port].envPrefix}_TOTAL_TIMEOUT_MS`]: {
      option: 'policies.totalTimeoutMs',
      kind: 'integer',
      description: 'budget of a whole call across its retries (default: the deadline of one attempt)',
    },
    [`${ports[port].envPrefix}_RATE_LIMIT_RPM`]: {
      option: 'policies.rateLimit.requestsPerMinute',
      kind: 'integer',
      description: 'calls started in any minute at most, retries included (default: no limit)',
    },
    [`${ports[port].envPrefix}_RATE_LIMIT_TPM`]: {
      option: 'policies.rateLimit.tokensPerMinute',
      kind: 'integer',
      description: 'tokens in any minute at most, estimated before a call and corrected by its usage',
    },
    [`${ports[port].envPrefix}_RATE_LIMIT_MAX_QUEUED`]: {
      option: 'policies.rateLimit.maxQueued',
      kind: 'integer',
      description: 'calls waiting for the rate limit at most, then rate_limited (default 100)',
    },
    ...ports[port].env,
  };
}

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
export interface SqlDrivers {
  embedded: EmbeddedDatabaseOptions;
  postgres: PostgresDatabaseOptions;
  mssql: MssqlDatabaseOptions;
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
export type SqlConfig = DriverConfig<SqlDrivers>;
export type SecretStoreConfig = DriverConfig<SecretStoreDrivers>;
export type LlmClientConfig = DriverConfig<LlmClientDrivers>;
export type ExecutorConfig = DriverConfig<ExecutorDrivers>;

export interface PortConfigs {
  cache: CacheConfig;
  broker: BrokerConfig;
  documents: DocumentStoreConfig;
  timeSeries: TimeSeriesConfig;
  sql: SqlConfig;
  secrets: SecretStoreConfig;
  llm: LlmClientConfig;
  executor: ExecutorConfig;
}

/** Each port's instance named `default`, and more instances by port and name. */
export type InfrastructureConfig = { [P in PortName]?: PortConfigs[P] } & {
  instances?: { [P in PortName]?: Readonly<Record<string, PortConfigs[P]>> };
};
