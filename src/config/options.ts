// The option schemas berth exports from its root, wherever each lives: a backend's own beside its
// adapter, the pieces several share in runtime/options.
export { parseInput, parseOptions } from '../runtime/options/validate.ts';
export {
  policyOverridesSchema,
  urlOf,
  secretValue,
  type TokenCredentialLike,
  tokenCredentialSchema,
} from '../runtime/options/schema-pieces.ts';
export {
  memoryCacheOptionsSchema,
  type MemoryCacheOptions,
  memoryDocumentStoreOptionsSchema,
  type MemoryDocumentStoreOptions,
  memorySecretStoreOptionsSchema,
  type MemorySecretStoreOptions,
  memoryTimeSeriesOptionsSchema,
  type MemoryTimeSeriesOptions,
} from '../adapters/memory/options.ts';
export {
  redisCacheOptionsSchema,
  type RedisCacheOptions,
  redisBrokerOptionsSchema,
  type RedisBrokerOptions,
} from '../adapters/redis/options.ts';
export { kafkaBrokerOptionsSchema, type KafkaBrokerOptions } from '../adapters/kafka/options.ts';
export {
  openAiClientOptionsSchema,
  type OpenAiClientOptions,
  azureOpenAiClientOptionsSchema,
  type AzureOpenAiClientOptions,
} from '../adapters/openai/options.ts';
export { ollamaClientOptionsSchema, type OllamaClientOptions } from '../adapters/ollama/options.ts';
export { llmDefaultTimeoutMs } from '../runtime/llm/llm-options.ts';
export {
  mongoDocumentStoreOptionsSchema,
  type MongoDocumentStoreOptions,
  mongoBrokerOptionsSchema,
  type MongoBrokerOptions,
} from '../adapters/mongodb/options.ts';
export { envSecretStoreOptionsSchema, type EnvSecretStoreOptions } from '../adapters/env/options.ts';
export { fileSecretStoreOptionsSchema, type FileSecretStoreOptions } from '../adapters/file/options.ts';
export {
  azureKeyVaultSecretStoreOptionsSchema,
  type AzureKeyVaultSecretStoreOptions,
} from '../adapters/azure-keyvault/options.ts';
export {
  cachedSecretStoreOptionsSchema,
  type CachedSecretStoreOptions,
} from '../runtime/secrets/cached-secret-store-options.ts';
export {
  cassandraConsistencies,
  type CassandraConsistency,
  cassandraReplicationSchema,
  cassandraTimeSeriesOptionsSchema,
  type CassandraTimeSeriesOptions,
  type ParsedCassandraTimeSeriesOptions,
} from '../adapters/cassandra/options.ts';
export {
  postgresDatabaseOptionsSchema,
  type PostgresDatabaseOptions,
  type ParsedPostgresDatabaseOptions,
  embeddedDatabaseOptionsSchema,
  type EmbeddedDatabaseOptions,
  type ParsedEmbeddedDatabaseOptions,
} from '../adapters/postgres/options.ts';
export {
  mssqlDatabaseOptionsSchema,
  type MssqlDatabaseOptions,
  type ParsedMssqlDatabaseOptions,
} from '../adapters/mssql/options.ts';
export { executorOptionsSchema, type ExecutorOptions } from '../runtime/executor/call-schemas.ts';
export { processExecutorOptionsSchema, type ProcessExecutorOptions } from '../adapters/process/options.ts';
