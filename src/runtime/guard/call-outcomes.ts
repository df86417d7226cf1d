import type { Logger } from 'pino';
import type { ErrorReason, InfraError } from '../../ports/errors.ts';
import type { OperationSeries } from '../telemetry/operation-series.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import type { RateLimiter } from './rate-limit.ts';

// Failures that say the dependency is unwell; the others (not_found, validation, …) are answers.
const breakerFailures: ReadonlySet<ErrorReason> = new Set([
  'unavailable',
  'timeout',
  'internal',
  'rate_limited',
]);

/** What an attempt's end tells: its duration in the series, the breaker's count, a log line for a failure. */
export class CallOutcomes {
  readonly #series: OperationSeries;
  readonly #breaker: CircuitBreaker;
  readonly #logger: Logger;
  readonly #limiter: RateLimiter | undefined;

  constructor(series: OperationSeries, breaker: CircuitBreaker, logger: Logger, limiter?: RateLimiter) {
    this.#series = series;
    this.#breaker = breaker;
    this.#logger = logger;
    this.#limiter = limiter;
  }

  succeeded(operation: string, started: number, labels: Record<string, string> | undefined): void {
    this.#series.succeeded(operation, labels).observe((performance.now() - started) / 1000);
    this.#breaker.success();
  }

  failed(
    operation: string,
    started: number,
    error: InfraError,
    labels: Record<string, string> | undefined,
  ): void {
    this.#series.failed(operation, labels, error.reason).observe((performance.now() - started) / 1000);
    if (breakerFailures.has(error.reason)) this.#breaker.failure();
    else if (error.reason === 'validation' || error.reason === 'config') this.#breaker.release();
    else this.#breaker.success();
    // The service said when to come back: every call of this client waits, not only this one.
    if (error.reason === 'rate_limited' && error.retryAfterMs !== undefined)
      this.#limiter?.pause(error.retryAfterMs);
    const level = error.reason === 'internal' ? 'error' : 'debug';
    this.#logger[level]({ err: error, operation }, 'operation failed');
  }
}
