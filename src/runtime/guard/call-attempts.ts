import { budgetOf, budgetUsedUp, clearDeadline, TimedAttempt } from './call-budget.ts';
import type { CallOutcomes } from './call-outcomes.ts';
import type { CallRetries } from './call-retry.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import type { ComponentErrors } from './component-errors.ts';
import type { CredentialRenewal } from './credential-renewal.ts';
import { deadlineScheduler, type PendingOperation } from './deadline-scheduler.ts';
import type { GuardCall, GuardState, StartsAttempts } from './guard-call.ts';
import type { InfraError } from '../../ports/errors.ts';

export interface AttemptSettings<Op extends string> {
  readonly state: GuardState;
  readonly errors: ComponentErrors;
  readonly breaker: CircuitBreaker;
  readonly outcomes: CallOutcomes;
  readonly retries: CallRetries<Op>;
  /** The policy's deadline of one attempt. */
  readonly timeoutMs: number;
  /** The policy's budget of a whole call. */
  readonly budgetMs: number;
  /** The adapter's rotating secrets, if it has any. */
  readonly credentials?: CredentialRenewal | undefined;
}

/**
 * One attempt of a call through the breaker and its deadline. The first attempt takes a list
 * entry of the shared deadline scheduler (no timer, no clock read, no AbortController); a retry
 * has a timer of its own. A failure that may be retried goes on to `CallRetries`.
 */
export class CallAttempts<Op extends string> implements StartsAttempts<Op> {
  readonly #state: GuardState;
  readonly #errors: ComponentErrors;
  readonly #breaker: CircuitBreaker;
  readonly #outcomes: CallOutcomes;
  readonly #retries: CallRetries<Op>;
  readonly #timeoutMs: number;
  readonly #budgetMs: number;
  readonly #credentials: CredentialRenewal | undefined;

  constructor(settings: AttemptSettings<Op>) {
    this.#state = settings.state;
    this.#errors = settings.errors;
    this.#breaker = settings.breaker;
    this.#outcomes = settings.outcomes;
    this.#retries = settings.retries;
    this.#timeoutMs = settings.timeoutMs;
    this.#budgetMs = settings.budgetMs;
    this.#credentials = settings.credentials;
  }

  start<R, T>(call: GuardCall<Op, R, T>): void {
    const { operation, options, retry } = call;
    if (this.#state.closed)
      return call.reject(this.#errors.error('closed', operation, 'component is closed'));
    const callerSignal = options?.signal;
    if (callerSignal?.aborted) return call.reject(callerSignal.reason);
    if (!this.#breaker.tryAcquire()) return call.reject(this.#circuitOpen(operation));
    const started = performance.now();
    const onExpire = (): void => {
      if (onCallerAbort) callerSignal?.removeEventListener('abort', onCallerAbort);
      this.#expired(call, pending, started);
    };
    // The first attempt shares the scheduler's timers (no timer per call); a retry has its own.
    const pending =
      retry === undefined
        ? deadlineScheduler.add(Math.min(this.#attemptMs(call), this.#callBudgetMs(call)), onExpire)
        : new TimedAttempt(retry.deadlineMs, onExpire);
    const onCallerAbort =
      callerSignal &&
      ((): void => {
        if (!clearDeadline(pending)) return;
        this.#breaker.release();
        pending.abort(callerSignal.reason);
        call.reject(callerSignal.reason);
      });
    if (onCallerAbort) callerSignal.addEventListener('abort', onCallerAbort, { once: true });
    let result: Promise<R>;
    try {
      result = call.fn(pending);
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      (value) => {
        if (!clearDeadline(pending)) return;
        if (onCallerAbort) callerSignal.removeEventListener('abort', onCallerAbort);
        this.#succeeded(call, started, value);
      },
      (cause: unknown) => {
        if (!clearDeadline(pending)) return;
        if (onCallerAbort) callerSignal.removeEventListener('abort', onCallerAbort);
        this.#failed(call, started, cause);
      },
    );
  }

  #succeeded<R, T>(call: GuardCall<Op, R, T>, started: number, value: R): void {
    this.#outcomes.succeeded(call.operation, started, call.labels?.(value));
    if (call.map === undefined) return call.resolve(value as unknown as T);
    try {
      call.resolve(call.map(value));
    } catch (error) {
      call.reject(error);
    }
  }

  #failed<R, T>(call: GuardCall<Op, R, T>, started: number, cause: unknown): void {
    const error = this.#errors.classified(call.operation, cause);
    this.#outcomes.failed(call.operation, started, error, call.labels?.(undefined));
    if (error.reason === 'unauthorized' && this.#credentials !== undefined && !call.renewed)
      this.#renew(call, error, started, this.#credentials);
    else if (call.retries && error.retryable) this.#retry(call, error, started);
    else call.reject(error);
  }

  // Refused credentials that a rotation may have changed: read again, then one more attempt.
  #renew<R, T>(
    call: GuardCall<Op, R, T>,
    error: InfraError,
    started: number,
    credentials: CredentialRenewal,
  ): void {
    const budget = call.retry ?? { budgetMs: this.#callBudgetMs(call), startedAt: started };
    this.#retries.renewed(call, error, budget, this, credentials).then(call.resolve, call.reject);
  }

  #expired<R, T>(call: GuardCall<Op, R, T>, pending: PendingOperation | TimedAttempt, started: number): void {
    const { retry } = call;
    const timeoutMs = this.#attemptMs(call);
    const budgetMs = this.#callBudgetMs(call);
    const budgetCut = retry?.budgetCut ?? budgetMs <= timeoutMs;
    const message = budgetCut
      ? budgetUsedUp(budgetMs, retry?.attempt ?? 1)
      : `timed out after ${timeoutMs} ms`;
    const error = this.#errors.error('timeout', call.operation, message);
    this.#outcomes.failed(call.operation, started, error, call.labels?.(undefined));
    pending.abort(error);
    if (call.retries && !budgetCut) this.#retry(call, error, started);
    else call.reject(error);
  }

  #retry<R, T>(call: GuardCall<Op, R, T>, error: InfraError, started: number): void {
    const budget = { budgetMs: this.#callBudgetMs(call), startedAt: started };
    this.#retries.after(call, error, budget, this).then(call.resolve, call.reject);
  }

  #circuitOpen(operation: Op): InfraError {
    const retryAfterMs = this.#breaker.remainingOpenMs();
    return this.#errors.error('circuit_open', operation, 'circuit breaker is open', {
      retryable: false,
      retryAfterMs,
    });
  }

  #attemptMs<R, T>(call: GuardCall<Op, R, T>): number {
    return call.options?.timeoutMs ?? this.#timeoutMs;
  }

  #callBudgetMs<R, T>(call: GuardCall<Op, R, T>): number {
    return call.retry?.budgetMs ?? budgetOf(call.options, this.#budgetMs);
  }
}
