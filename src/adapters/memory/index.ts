export { createMemoryCache } from './cache.ts';
export type { MemoryCacheOptions, MemorySecretStoreOptions, MemoryTimeSeriesOptions } from './options.ts';
export { createMemoryBroker, type MemoryBrokerOptions } from './broker.ts';
export {
  createMemoryExecutor,
  type ExecutorCall,
  type MemoryExecutor,
  type MemoryExecutorOptions,
  type ScriptedCommand,
  type ScriptedContext,
  type ScriptedResponder,
  type ScriptedResult,
} from './executor.ts';
export { createMemoryDocumentStore } from './document-store.ts';
export {
  createMemoryLlmClient,
  type MemoryLlmClient,
  type MemoryLlmClientOptions,
  type ScriptedLlmReply,
} from './llm-client.ts';
export { createMemorySecretStore } from './secret-store.ts';
export { createMemoryTimeSeries } from './time-series.ts';
