export { cacheConformance, type CacheConformanceOptions, type CacheFeatures } from './cache-conformance.ts';
export type { TestApi } from './test-api.ts';
export { brokerConformance, type BrokerConformanceOptions } from './broker-conformance.ts';
export {
  executorConformance,
  executorConformanceScript,
  type ExecutorConformanceOptions,
  type ExecutorFeatures,
  type ExecutorTestOptions,
} from './executor-conformance.ts';
export {
  llmClientConformance,
  type LlmClientConformanceOptions,
  type LlmClientFeatures,
} from './llm-client-conformance.ts';
export {
  documentStoreConformance,
  type DocumentStoreConformanceOptions,
} from './document-store-conformance.ts';
export { secretStoreConformance, type SecretStoreConformanceOptions } from './secret-store-conformance.ts';
export {
  timeSeriesConformance,
  type TimeSeriesConformanceOptions,
  type TimeSeriesFeatures,
  type TimeSeriesRetention,
} from './time-series-conformance.ts';
export { createTestInfrastructure, type TestInfrastructureOptions } from './test-infrastructure.ts';
export { sqlConformance, type SqlConformanceOptions, type SqlFeatures } from './sql-conformance.ts';
export { outboxConformance, type OutboxConformanceOptions } from './outbox-conformance.ts';
