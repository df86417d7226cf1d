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
