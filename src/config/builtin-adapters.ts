import type { AdapterDescriptor } from '../runtime/adapter-descriptor.ts';
import { azureKeyVaultSecretStoreAdapter } from '../adapters/azure-keyvault/descriptors.ts';
import { cassandraTimeSeriesAdapter } from '../adapters/cassandra/descriptors.ts';
import { envSecretStoreAdapter } from '../adapters/env/descriptors.ts';
import { fileSecretStoreAdapter } from '../adapters/file/descriptors.ts';
import { kafkaBrokerAdapter } from '../adapters/kafka/descriptors.ts';
import {
  memoryBrokerAdapter,
  memoryCacheAdapter,
  memoryDocumentStoreAdapter,
  memoryExecutorAdapter,
  memoryLlmClientAdapter,
  memorySecretStoreAdapter,
  memoryTimeSeriesAdapter,
} from '../adapters/memory/descriptors.ts';
import { mongoBrokerAdapter, mongoDocumentStoreAdapter } from '../adapters/mongodb/descriptors.ts';
import { ollamaClientAdapter } from '../adapters/ollama/descriptors.ts';
import { azureOpenAiClientAdapter, openAiClientAdapter } from '../adapters/openai/descriptors.ts';
import { embeddedSqlAdapter, postgresSqlAdapter } from '../adapters/postgres/descriptors.ts';
import { mssqlSqlAdapter } from '../adapters/mssql/descriptors.ts';
import { platformaticKafkaBrokerAdapter } from '../adapters/platformatic-kafka/descriptors.ts';
import { processExecutorAdapter } from '../adapters/process/descriptors.ts';
import { redisBrokerAdapter, redisCacheAdapter } from '../adapters/redis/descriptors.ts';

/** Every adapter berth ships. Descriptors load no SDK: each factory imports its own when called. */
export const builtinAdapters: readonly AdapterDescriptor[] = [
  memoryCacheAdapter,
  redisCacheAdapter,
  memoryBrokerAdapter,
  kafkaBrokerAdapter,
  platformaticKafkaBrokerAdapter,
  redisBrokerAdapter,
  mongoBrokerAdapter,
  memoryDocumentStoreAdapter,
  mongoDocumentStoreAdapter,
  memoryTimeSeriesAdapter,
  cassandraTimeSeriesAdapter,
  embeddedSqlAdapter,
  postgresSqlAdapter,
  mssqlSqlAdapter,
  memorySecretStoreAdapter,
  envSecretStoreAdapter,
  fileSecretStoreAdapter,
  azureKeyVaultSecretStoreAdapter,
  memoryLlmClientAdapter,
  openAiClientAdapter,
  azureOpenAiClientAdapter,
  ollamaClientAdapter,
  memoryExecutorAdapter,
  processExecutorAdapter,
];

/** Finds the adapter for a port and driver; the caller's own come first, so they may replace a built-in. */
export class AdapterRegistry {
  readonly #byKey = new Map<string, AdapterDescriptor>();

  constructor(own: readonly AdapterDescriptor[] = []) {
    for (const descriptor of [...builtinAdapters, ...own])
      this.#byKey.set(`${descriptor.port}\0${descriptor.driver}`, descriptor);
  }

  find(port: string, driver: string): AdapterDescriptor | undefined {
    return this.#byKey.get(`${port}\0${driver}`);
  }

  drivers(port: string): string[] {
    return [...this.#byKey.values()].filter((d) => d.port === port).map((d) => d.driver);
  }
}
