export * from './runtime.ts';
export { Guard, type GuardSpec } from './guard.ts';
export { CircuitBreaker, type CircuitBreakerState } from './circuit-breaker.ts';
export { guardCache, type GuardedCacheOptions } from './guarded-cache.ts';
