export * from './runtime.ts';
export { Guard, type CallLabels, type GuardSpec } from './guard.ts';
export { CircuitBreaker, type CircuitBreakerState } from './circuit-breaker.ts';
export { guardCache, type GuardedCacheOptions } from './guarded-cache.ts';
export { guardExecutor, type GuardedExecutorOptions } from './guarded-executor.ts';
