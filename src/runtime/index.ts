export * from './runtime.ts';
export { Guard, type CallLabels, type GuardedOptions, type GuardedPort, type GuardSpec } from './guard.ts';
export { tokenUsageHistogram } from './metrics.ts';
export * as semconv from './semconv.ts';
export { CircuitBreaker, type CircuitBreakerState } from './circuit-breaker.ts';
export { guardCache, type GuardedCacheOptions } from './guarded-cache.ts';
export { guardExecutor, type GuardedExecutorOptions } from './guarded-executor.ts';
export { guardLlmClient, type GuardedLlmClientOptions } from './guarded-llm-client.ts';
export { guardDocumentStore, type GuardedDocumentStoreOptions } from './guarded-document-store.ts';
export { guardSecretStore, type GuardedSecretStoreOptions } from './guarded-secret-store.ts';
export { cachedSecretStore, type CachedSecretStore } from './cached-secret-store.ts';
export { guardBroker, type GuardedBrokerOptions } from './guarded-broker.ts';
export { guardTimeSeries, type GuardedTimeSeriesOptions } from './guarded-time-series.ts';
export {
  guardSqlDatabase,
  type GuardedSqlDatabase,
  type GuardedSqlDatabaseOptions,
} from './guarded-sql-database.ts';
export { brokerHeaders } from './broker-headers.ts';
export { traceLogFields, type Tracing, type TracingOptions } from './tracing.ts';
export type { TraceContextMode } from './broker-tracing.ts';
export * from './adapter-descriptor.ts';
