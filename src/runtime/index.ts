export * from './runtime.ts';
export { Guard, tokenUsageHistogram, type CallLabels, type GuardSpec } from './guard.ts';
export { CircuitBreaker, type CircuitBreakerState } from './circuit-breaker.ts';
export { guardCache, type GuardedCacheOptions } from './guarded-cache.ts';
export { guardExecutor, type GuardedExecutorOptions } from './guarded-executor.ts';
export { guardLlmClient, type GuardedLlmClientOptions } from './guarded-llm-client.ts';
export { guardDocumentStore, type GuardedDocumentStoreOptions } from './guarded-document-store.ts';
export { guardSecretStore, type GuardedSecretStoreOptions } from './guarded-secret-store.ts';
export { cachedSecretStore, type CachedSecretStore } from './cached-secret-store.ts';
