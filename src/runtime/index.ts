export * from './runtime.ts';
export {
  Guard,
  type CallLabels,
  type GuardedOptions,
  type GuardedPort,
  type GuardSpec,
} from './guard/guard.ts';
export { tokenUsageHistogram } from './telemetry/metrics.ts';
export * as semconv from './telemetry/semconv.ts';
export { CircuitBreaker, type CircuitBreakerState } from './guard/circuit-breaker.ts';
export { CredentialRenewal } from './guard/credential-renewal.ts';
export { guardCache, type GuardedCacheOptions } from './cache/guarded-cache.ts';
export { guardExecutor, type GuardedExecutorOptions } from './executor/guarded-executor.ts';
export { guardLlmClient, type GuardedLlmClientOptions } from './llm/guarded-llm-client.ts';
export { createLlmFallback, type LlmFallbackOptions } from './llm/llm-fallback.ts';
export { guardDocumentStore, type GuardedDocumentStoreOptions } from './documents/guarded-document-store.ts';
export { guardSecretStore, type GuardedSecretStoreOptions } from './secrets/guarded-secret-store.ts';
export { cachedSecretStore, type CachedSecretStore } from './secrets/cached-secret-store.ts';
export { guardBroker, type GuardedBrokerOptions } from './broker/guarded-broker.ts';
export { guardTimeSeries, type GuardedTimeSeriesOptions } from './time-series/guarded-time-series.ts';
export {
  guardSqlDatabase,
  type GuardedSqlDatabase,
  type GuardedSqlDatabaseOptions,
} from './sql/guarded-sql-database.ts';
export { brokerHeaders } from './broker/headers.ts';
export { withMiddleware } from './broker/handler-middleware.ts';
export {
  createOutbox,
  type Outbox,
  type OutboxOptions,
  type OutboxPublishOptions,
  type OutboxTransaction,
} from './outbox/outbox.ts';
export { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from './outbox/outbox-relay.ts';
export { createInbox, type Inbox, type InboxHandler, type InboxOptions } from './outbox/inbox.ts';
export { traceLogFields, type Tracing, type TracingOptions } from './telemetry/tracing.ts';
export type { TraceContextMode } from './broker/tracing.ts';
export * from './adapter-descriptor.ts';
