import { setTimeout as sleep } from 'node:timers/promises';
import { ConsecutiveBreaker, ExponentialBackoff, type IBackoff } from 'cockatiel';
import type { Span } from '@opentelemetry/api';
import type { Counter } from 'prom-client';
import type { Logger } from 'pino';
import type { Component, HealthResult, OperationContext, OperationOptions } from '../../ports/component.ts';
import {
  describeIssues,
  InfraError,
  isInfraError,
  type ErrorClassification,
  type ErrorReason,
  type InfraErrorOptions,
} from '../../ports/errors.ts';
import { redactCredentials } from '../../ports/redacted.ts';
import {
  budgetOf,
  budgetUsedUp,
  clearDeadline,
  nextAttempt,
  TimedAttempt,
  type CallBudget,
  type RetryAttempt,
} from './call-budget.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { deadlineScheduler } from './deadline-scheduler.ts';
import { counterOn, gaugeOn } from '../telemetry/metrics.ts';
import { OperationSeries } from '../telemetry/operation-series.ts';
import { OperationSpans } from '../telemetry/operation-spans.ts';
import type { CallLabels, GuardedOptions, GuardedPort, GuardSpec } from './guard-spec.ts';
import { probeWithin } from './guard-health.ts';
import { mergePolicies, type Policies, type Runtime } from '../runtime.ts';
import { attributes, circuitBreakerState, operationRetries } from '../telemetry/semconv.ts';
import type { CallSpan } from '../telemetry/tracing.ts';

export type { CallLabels, GuardedOptions, GuardedPort, GuardSpec } from './guard-spec.ts';
export type { ServerInfo } from '../telemetry/server-info.ts';
export type { CallSpan, SpanAttributes, TraceLink } from '../telemetry/tracing.ts';

// Failures that say the dependency is unwell; the others (not_found, validation, …) are answers.
const breakerFailures: ReadonlySet<ErrorReason> = new Set([
  'unavailable',
  'timeout',
  'internal',
  'rate_limited',
]);

const breakerStateValue = { closed: 0, 'half-open': 1, open: 2 } as const;

/**
 * Resilience and telemetry around one adapter instance: a deadline per attempt within a budget
 * per call, one circuit breaker, retries of idempotent operations on retryable errors, duration
 * metrics and logs. Order: retry outermost, then breaker, then deadline.
 */
export class Guard<Op extends string> {
  readonly id: string;
  readonly logger: Logger;
  readonly policies: Policies;
  readonly #spec: GuardSpec<Op>;
  readonly #breaker: CircuitBreaker;
  readonly #backoff: ExponentialBackoff<unknown>;
  readonly #budgetMs: number;
  readonly #series: OperationSeries;
  readonly #retries: Counter;
  // Undefined when tracing is off, the API absent, or the system's spans left to another instrumentation.
  readonly #spans: OperationSpans | undefined;
  #closed: Promise<void> | undefined = undefined;

  constructor(spec: GuardSpec<Op>, runtime: Runtime) {
    this.#spec = spec;
    this.id = spec.id;
    this.policies = mergePolicies(runtime.policies, spec.policies);
    this.logger = runtime.logger.child({ component: spec.id });
    const metrics = spec.metrics;
    const operations = Object.keys(spec.operations);
    this.#series = new OperationSeries(
      runtime.registry,
      metrics,
      spec.system,
      spec.server,
      spec.id,
      operations,
    );
    this.#spans = OperationSpans.of(runtime.tracing, metrics, spec.id, spec.system, spec.server, operations);
    this.#retries = counterOn(runtime.registry, operationRetries);
    const breakerGauge = gaugeOn(runtime.registry, circuitBreakerState);
    breakerGauge.set({ [attributes.component]: spec.id }, 0);
    const breakerPolicy = this.policies.breaker;
    this.#breaker = new CircuitBreaker({
      breaker: breakerPolicy.createBreaker?.() ?? new ConsecutiveBreaker(breakerPolicy.consecutiveFailures),
      halfOpenAfterMs: breakerPolicy.halfOpenAfterMs,
      onStateChange: (state) => {
        breakerGauge.set({ [attributes.component]: spec.id }, breakerStateValue[state]);
        const log = state === 'open' ? this.logger.warn : this.logger.info;
        log.call(this.logger, { circuit: state }, `circuit ${state}`);
      },
    });
    this.#budgetMs = this.policies.totalTimeoutMs ?? this.policies.timeoutMs;
    const retry = this.policies.retry;
    this.#backoff = new ExponentialBackoff({
      initialDelay: retry.initialDelayMs,
      maxDelay: retry.maxDelayMs,
    });
  }

  /** The guard of one adapter of `port`: the component id defaults to `<idPrefix>:<system>`. */
  static forAdapter<Op extends string>(
    port: GuardedPort<Op>,
    adapter: { readonly system: string; classifyError(error: unknown): ErrorClassification },
    options: GuardedOptions,
    runtime: Runtime,
  ): Guard<Op> {
    const { idPrefix, ...spec } = port;
    return new Guard(
      {
        ...spec,
        id: options.id ?? `${idPrefix}:${adapter.system}`,
        system: adapter.system,
        classifyError: (error) => adapter.classifyError(error),
        policies: options.policies,
        server: options.server,
      },
      runtime,
    );
  }

  get circuit(): 'closed' | 'open' | 'half-open' {
    return this.#breaker.state.kind;
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /**
   * Runs one operation of the port through retry, breaker and deadline. `map` turns the
   * adapter's result into the port's (e.g. decoding) inside the same promise, because each
   * extra promise per call is measurable against a local Redis. `labels` adds labels to the
   * call's duration series; `span` what the call's span carries beyond the operation's.
   */
  run<R, T = R>(
    operation: Op,
    options: OperationOptions | undefined,
    fn: (ctx: OperationContext) => Promise<R>,
    map?: (value: R) => T,
    labels?: CallLabels<R>,
    span?: CallSpan<T>,
  ): Promise<T> {
    const retries = this.policies.retry.maxAttempts > 1 && this.#spec.operations[operation].idempotent;
    const traced = this.#spans?.start(operation, span);
    if (traced === undefined)
      return new Promise<T>((resolve, reject) =>
        this.#attempt(operation, options, fn, map, labels, resolve, reject, retries, undefined, undefined),
      );
    return this.#spans!.traced(traced, span, () => {
      return new Promise<T>((resolve, reject) =>
        this.#attempt(operation, options, fn, map, labels, resolve, reject, retries, undefined, traced),
      );
    });
  }

  /** An InfraError about this component, for adapters and port code to throw. */
  error(
    reason: ErrorReason,
    operation: string,
    message: string,
    options: InfraErrorOptions = {},
  ): InfraError {
    return new InfraError(reason, `${this.id} ${operation}: ${message}`, {
      port: this.#spec.port,
      adapter: this.#spec.system,
      operation,
      ...options,
    });
  }

  /** A `validation` error about one input, in the shape every input check uses: `<path>: <message>`. */
  invalid(operation: string, path: string, message: string, options: InfraErrorOptions = {}): InfraError {
    return this.error('validation', operation, describeIssues([{ path, message }]), options);
  }

  /** Counts a retry made outside `run`: a whole transaction run again after a conflict. */
  countRetry(operation: string): void {
    this.#retries.inc({ [attributes.component]: this.id, [attributes.operation]: operation });
  }

  /** A driver error classified by the adapter's table, for failures that happen outside `run`. */
  toInfraError(operation: string, cause: unknown): InfraError {
    return this.#toInfraError(operation, cause);
  }

  /** The adapter's own probe, bounded by the health deadline, with the breaker's state; never throws. */
  async health(
    probe: (signal: AbortSignal) => Promise<HealthResult>,
    signal?: AbortSignal,
  ): Promise<HealthResult> {
    if (this.#closed) return { status: 'down', error: 'closed' };
    const started = performance.now();
    let result = await probeWithin(probe, signal, this.policies.healthTimeoutMs, (error) =>
      this.#toInfraError('health', error),
    );
    const circuit = this.#breaker.state.kind;
    if (circuit !== 'closed' && result.status === 'up') result = { ...result, status: 'degraded' };
    return {
      ...result,
      latencyMs: Math.round((performance.now() - started) * 100) / 100,
      details: { ...result.details, circuit },
      ...(result.error === undefined ? {} : { error: redactCredentials(result.error) }),
    };
  }

  /**
   * The `Component` part of a port: `id`, `health()` from the adapter's probe, `close()` (after
   * `beforeClose`, e.g. to cut work in flight) and disposal.
   */
  component(
    adapter: { probe(signal: AbortSignal): Promise<HealthResult>; close(): Promise<void> },
    beforeClose?: () => void,
  ): Component {
    const component: Component = {
      id: this.id,
      health: (signal) => this.health((probeSignal) => adapter.probe(probeSignal), signal),
      close: () => {
        beforeClose?.();
        return this.close(() => adapter.close());
      },
      [Symbol.asyncDispose]: () => component.close(),
    };
    return component;
  }

  /** Idempotent: later calls wait for the first close. */
  close(closeAdapter: () => Promise<void>): Promise<void> {
    this.#closed ??= closeAdapter().catch((error: unknown) => {
      this.logger.warn({ err: error }, 'close failed');
    });
    return this.#closed;
  }

  #attempt<R, T>(
    operation: Op,
    options: OperationOptions | undefined,
    fn: (ctx: OperationContext) => Promise<R>,
    map: ((value: R) => T) | undefined,
    labels: CallLabels<R> | undefined,
    resolve: (value: T) => void,
    reject: (error: unknown) => void,
    retries: boolean,
    retry: RetryAttempt | undefined,
    span: Span | undefined,
  ): void {
    if (this.#closed) return reject(this.error('closed', operation, 'component is closed'));
    const callerSignal = options?.signal;
    if (callerSignal?.aborted) return reject(callerSignal.reason);
    if (!this.#breaker.tryAcquire()) {
      const retryAfterMs = this.#breaker.remainingOpenMs();
      return reject(
        this.error('circuit_open', operation, 'circuit breaker is open', { retryable: false, retryAfterMs }),
      );
    }
    const timeoutMs = options?.timeoutMs ?? this.policies.timeoutMs;
    const started = performance.now();
    const budgetMs = retry?.budgetMs ?? budgetOf(options, this.#budgetMs);
    const onExpire = (): void => {
      if (onCallerAbort) callerSignal?.removeEventListener('abort', onCallerAbort);
      const budgetCut = retry?.budgetCut ?? budgetMs <= timeoutMs;
      const message = budgetCut
        ? budgetUsedUp(budgetMs, retry?.attempt ?? 1)
        : `timed out after ${timeoutMs} ms`;
      const error = this.error('timeout', operation, message);
      this.#settleFailure(operation, started, error, labels?.(undefined));
      pending.abort(error);
      if (retries && !budgetCut)
        this.#retry(operation, options, fn, map, labels, error, { budgetMs, startedAt: started }, span).then(
          resolve,
          reject,
        );
      else reject(error);
    };
    // The first attempt shares the scheduler's timers (no timer per call); a retry has its own.
    const pending =
      retry === undefined
        ? deadlineScheduler.add(Math.min(timeoutMs, budgetMs), onExpire)
        : new TimedAttempt(retry.deadlineMs, onExpire);
    const onCallerAbort =
      callerSignal &&
      ((): void => {
        if (!clearDeadline(pending)) return;
        this.#breaker.release();
        pending.abort(callerSignal.reason);
        reject(callerSignal.reason);
      });
    if (onCallerAbort) callerSignal.addEventListener('abort', onCallerAbort, { once: true });
    let result: Promise<R>;
    try {
      result = fn(pending);
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      (value) => {
        if (!clearDeadline(pending)) return;
        if (onCallerAbort) callerSignal.removeEventListener('abort', onCallerAbort);
        this.#series.succeeded(operation, labels?.(value)).observe((performance.now() - started) / 1000);
        this.#breaker.success();
        if (map === undefined) return resolve(value as unknown as T);
        try {
          resolve(map(value));
        } catch (error) {
          reject(error);
        }
      },
      (cause: unknown) => {
        if (!clearDeadline(pending)) return;
        if (onCallerAbort) callerSignal.removeEventListener('abort', onCallerAbort);
        const error = this.#toInfraError(operation, cause);
        this.#settleFailure(operation, started, error, labels?.(undefined));
        if (retries && error.retryable)
          this.#retry(
            operation,
            options,
            fn,
            map,
            labels,
            error,
            { budgetMs, startedAt: started },
            span,
          ).then(resolve, reject);
        else reject(error);
      },
    );
  }

  async #retry<R, T>(
    operation: Op,
    options: OperationOptions | undefined,
    fn: (ctx: OperationContext) => Promise<R>,
    map: ((value: R) => T) | undefined,
    labels: CallLabels<R> | undefined,
    firstError: unknown,
    call: CallBudget,
    span: Span | undefined,
  ): Promise<T> {
    const timeoutMs = options?.timeoutMs ?? this.policies.timeoutMs;
    let error = firstError;
    let backoff: IBackoff<unknown> = this.#backoff.next();
    for (let attempt = 2; attempt <= this.policies.retry.maxAttempts; attempt++) {
      if (!isInfraError(error) || !error.retryable || this.#closed) break;
      const delayMs = Math.max(backoff.duration, error.retryAfterMs ?? 0);
      // A retry that could not begin within the budget is not made: the caller hears the failure now.
      if (nextAttempt(call, attempt, timeoutMs, delayMs) === undefined) break;
      this.#retries.inc({ [attributes.component]: this.id, [attributes.operation]: operation });
      this.logger.debug({ operation, attempt, delayMs, reason: error.reason }, 'retrying');
      if (span !== undefined) this.#spans!.retried(span, attempt, delayMs, error.reason);
      await sleep(delayMs, undefined, options?.signal ? { signal: options.signal } : undefined);
      const retry = nextAttempt(call, attempt, timeoutMs);
      if (retry === undefined) break;
      const start = (resolve: (value: T) => void, reject: (error: unknown) => void): void =>
        this.#attempt(operation, options, fn, map, labels, resolve, reject, false, retry, span);
      try {
        return await new Promise<T>((resolve, reject) =>
          span === undefined
            ? start(resolve, reject)
            : this.#spans!.within(span, () => start(resolve, reject)),
        );
      } catch (next) {
        // A retry refused by the open circuit says less than the failure that opened it.
        if (isInfraError(next) && next.reason === 'circuit_open') break;
        error = next;
        backoff = backoff.next(undefined);
      }
    }
    throw error;
  }

  #settleFailure(
    operation: string,
    started: number,
    error: InfraError,
    labels: Record<string, string> | undefined,
  ): void {
    this.#series.failed(operation, labels, error.reason).observe((performance.now() - started) / 1000);
    if (breakerFailures.has(error.reason)) this.#breaker.failure();
    else if (error.reason === 'validation' || error.reason === 'config') this.#breaker.release();
    else this.#breaker.success();
    const level = error.reason === 'internal' ? 'error' : 'debug';
    this.logger[level]({ err: error, operation }, 'operation failed');
  }

  #toInfraError(operation: string, cause: unknown): InfraError {
    if (isInfraError(cause)) return cause;
    const classified = this.#spec.classifyError(cause);
    const detail = classified.message ?? (cause instanceof Error ? cause.message : String(cause));
    return this.error(classified.reason, operation, redactCredentials(detail), {
      cause,
      ...(classified.retryable === undefined ? {} : { retryable: classified.retryable }),
      ...(classified.retryAfterMs === undefined ? {} : { retryAfterMs: classified.retryAfterMs }),
    });
  }
}
