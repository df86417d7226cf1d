import { setTimeout as sleep } from 'node:timers/promises';
import type { ExponentialBackoff, IBackoff } from 'cockatiel';
import type { Counter } from 'prom-client';
import type { Logger } from 'pino';
import type { RetryAttempt } from './call-budget.ts';
import type { CredentialRenewal } from './credential-renewal.ts';
import { nextAttempt, type CallBudget } from './call-budget.ts';
import { isInfraError, type InfraError } from '../../ports/errors.ts';
import type { Policies } from '../runtime.ts';
import type { OperationSpans } from '../telemetry/operation-spans.ts';
import { attributes } from '../telemetry/semconv.ts';
import type { GuardCall, GuardState, StartsAttempts } from './guard-call.ts';
import type { RateLimiter } from './rate-limit.ts';

export interface RetrySettings {
  readonly id: string;
  readonly policies: Policies;
  readonly backoff: ExponentialBackoff<unknown>;
  readonly counter: Counter;
  readonly logger: Logger;
  readonly spans: OperationSpans | undefined;
  readonly state: GuardState;
  readonly limiter?: RateLimiter | undefined;
}

/**
 * The retries of a call after its first attempt failed: cockatiel's decorrelated backoff, each
 * attempt within what is left of the call's budget. Only a failure gets here, so the happy path
 * pays nothing for it.
 */
export class CallRetries<Op extends string> {
  readonly #settings: RetrySettings;

  constructor(settings: RetrySettings) {
    this.#settings = settings;
  }

  async after<R, T>(
    call: GuardCall<Op, R, T>,
    firstError: unknown,
    budget: CallBudget,
    attempts: StartsAttempts<Op>,
  ): Promise<T> {
    const { policies, state, spans, logger } = this.#settings;
    const { operation, options, span } = call;
    const timeoutMs = options?.timeoutMs ?? policies.timeoutMs;
    let error = firstError;
    let backoff: IBackoff<unknown> = this.#settings.backoff.next();
    for (let attempt = 2; attempt <= policies.retry.maxAttempts; attempt++) {
      if (!isInfraError(error) || !error.retryable || state.closed) break;
      const delayMs = Math.max(backoff.duration, error.retryAfterMs ?? 0);
      // A retry that could not begin within the budget is not made: the caller hears the failure now.
      if (nextAttempt(budget, attempt, timeoutMs, delayMs) === undefined) break;
      this.#settings.counter.inc({
        [attributes.component]: this.#settings.id,
        [attributes.operation]: operation,
      });
      logger.debug({ operation, attempt, delayMs, reason: error.reason }, 'retrying');
      if (span !== undefined) spans!.retried(span, attempt, delayMs, error.reason);
      await sleep(delayMs, undefined, options?.signal ? { signal: options.signal } : undefined);
      // A retry is a request too: it counts against the rate limit and waits out a cooldown.
      const limiter = this.#settings.limiter;
      if (limiter !== undefined && !limiter.take(call.cost)) {
        const leftMs = budget.budgetMs - (performance.now() - budget.startedAt);
        await limiter.wait(operation, call.cost, options?.signal, leftMs);
      }
      const retry = nextAttempt(budget, attempt, timeoutMs);
      if (retry === undefined) break;
      try {
        return await this.#again(call, retry, attempts);
      } catch (next) {
        // A retry refused by the open circuit says less than the failure that opened it.
        if (isInfraError(next) && next.reason === 'circuit_open') break;
        error = next;
        backoff = backoff.next(undefined);
      }
    }
    throw error;
  }

  /**
   * After an attempt refused for its credentials: once they were read again and one changed, one
   * more attempt within the call's budget (nothing ran on the server), else the refusal.
   */
  async renewed<R, T>(
    call: GuardCall<Op, R, T>,
    refusal: InfraError,
    budget: CallBudget,
    attempts: StartsAttempts<Op>,
    credentials: CredentialRenewal,
  ): Promise<T> {
    const { policies, state, logger } = this.#settings;
    if (!(await credentials.renew()) || state.closed) throw refusal;
    const timeoutMs = call.options?.timeoutMs ?? policies.timeoutMs;
    const retry = nextAttempt(budget, (call.retry?.attempt ?? 1) + 1, timeoutMs);
    if (retry === undefined) throw refusal;
    logger.debug(
      { operation: call.operation, attempt: retry.attempt },
      'trying again with renewed credentials',
    );
    return this.#again(call, retry, attempts, true);
  }

  #again<R, T>(
    call: GuardCall<Op, R, T>,
    retry: RetryAttempt,
    attempts: StartsAttempts<Op>,
    renewed = call.renewed,
  ): Promise<T> {
    const { span } = call;
    return new Promise<T>((resolve, reject) => {
      const again: GuardCall<Op, R, T> = {
        operation: call.operation,
        options: call.options,
        fn: call.fn,
        map: call.map,
        labels: call.labels,
        cost: call.cost,
        span,
        retries: false,
        retry,
        renewed,
        resolve,
        reject,
      };
      // A retry after a deadline starts from a timer's context: the call's span is made active again.
      if (span === undefined) attempts.start(again);
      else this.#settings.spans!.within(span, () => attempts.start(again));
    });
  }
}
