export { cacheConformance, type CacheConformanceOptions, type CacheFeatures } from './cache-conformance.ts';
export type { TestApi } from './test-api.ts';
export { brokerConformance, type BrokerConformanceOptions } from './broker-conformance.ts';
