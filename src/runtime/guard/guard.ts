import { ConsecutiveBreaker, ExponentialBackoff } from 'cockatiel';
import type { Counter } from 'prom-client';
import type { Logger } from 'pino';
import type {
  Component,
  HealthResult,
  OperationContext,
  OperationOptions,
  OperationSpecs,
} from '../../ports/component.ts';
import type { ErrorClassification, ErrorReason, InfraError, InfraErrorOptions } from '../../ports/errors.ts';
import { redactCredentials } from '../../ports/redacted.ts';
import { CallAttempts } from './call-attempts.ts';
import { CallOutcomes } from './call-outcomes.ts';
import { CallRetries } from './call-retry.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import type { CredentialRenewal } from './credential-renewal.ts';
import { ComponentErrors } from './component-errors.ts';
import { budgetOf } from './call-budget.ts';
import { RateLimiter, type RateCost } from './rate-limit.ts';
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

const breakerStateValue = { closed: 0, 'half-open': 1, open: 2 } as const;

/**
 * Resilience and telemetry around one adapter instance: a deadline per attempt within a budget
 * per call, one circuit breaker, retries of idempotent operations on retryable errors, duration
 * metrics and logs. Order: retry outermost (`CallRetries`), then breaker and deadline
 * (`CallAttempts`); what an attempt's end tells is recorded by `CallOutcomes`.
 */
export class Guard<Op extends string> {
  readonly id: string;
  readonly logger: Logger;
  readonly policies: Policies;
  readonly #operations: OperationSpecs<Op>;
  readonly #errors: ComponentErrors;
  readonly #breaker: CircuitBreaker;
  readonly #retries: Counter;
  // Undefined when tracing is off, the API absent, or the system's spans left to another instrumentation.
  readonly #spans: OperationSpans | undefined;
  readonly #attempts: CallAttempts<Op>;
  readonly #limiter: RateLimiter | undefined;
  readonly #budgetMs: number;
  readonly #credentials: CredentialRenewal | undefined;
  #closed: Promise<void> | undefined = undefined;

  constructor(spec: GuardSpec<Op>, runtime: Runtime) {
    this.id = spec.id;
    this.policies = mergePolicies(runtime.policies, spec.policies);
    this.logger = runtime.logger.child({ component: spec.id });
    this.#operations = spec.operations;
    this.#errors = new ComponentErrors(spec.id, spec.port, spec.system, spec.classifyError);
    const operations = Object.keys(spec.operations);
    const { metrics, system, server } = spec;
    const series = new OperationSeries(runtime.registry, metrics, system, server, spec.id, operations);
    this.#spans = OperationSpans.of(runtime.tracing, metrics, spec.id, system, server, operations);
    this.#retries = counterOn(runtime.registry, operationRetries);
    this.#breaker = this.#monitoredBreaker(runtime);
    this.#limiter = this.#rateLimiter();
    this.#budgetMs = this.policies.totalTimeoutMs ?? this.policies.timeoutMs;
    this.#credentials = spec.credentialRenewal;
    const retry = this.policies.retry;
    const retries = new CallRetries<Op>({
      id: spec.id,
      policies: this.policies,
      backoff: new ExponentialBackoff({ initialDelay: retry.initialDelayMs, maxDelay: retry.maxDelayMs }),
      counter: this.#retries,
      logger: this.logger,
      spans: this.#spans,
      state: this,
      limiter: this.#limiter,
    });
    this.#attempts = new CallAttempts<Op>({
      state: this,
      errors: this.#errors,
      breaker: this.#breaker,
      outcomes: new CallOutcomes(series, this.#breaker, this.logger, this.#limiter),
      retries,
      timeoutMs: this.policies.timeoutMs,
      budgetMs: this.#budgetMs,
      credentials: spec.credentialRenewal,
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
        credentialRenewal: options.credentialRenewal,
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
   * call's duration series; `span` what the call's span carries beyond the operation's; `cost`
   * what it counts against a token rate limit (see `correctCost`).
   */
  run<R, T = R>(
    operation: Op,
    options: OperationOptions | undefined,
    fn: (ctx: OperationContext) => Promise<R>,
    map?: (value: R) => T,
    labels?: CallLabels<R>,
    span?: CallSpan<T>,
    cost?: RateCost,
  ): Promise<T> {
    const retries = this.policies.retry.maxAttempts > 1 && this.#operations[operation].idempotent;
    const traced = this.#spans?.start(operation, span);
    const attempts = this.#attempts;
    const start = (resolve: (value: T) => void, reject: (error: unknown) => void, given = options): void =>
      attempts.start({
        operation,
        options: given,
        fn,
        map,
        labels,
        cost,
        span: traced,
        retries,
        retry: undefined,
        renewed: false,
        resolve,
        reject,
      });
    const limiter = this.#limiter;
    const call =
      limiter === undefined
        ? start
        : (resolve: (value: T) => void, reject: (error: unknown) => void): void => {
            if (this.#closed !== undefined || limiter.take(cost)) return start(resolve, reject);
            // The wait comes out of the call's budget: the caller never waits longer than it asked.
            const budgetMs = budgetOf(options, this.#budgetMs);
            const since = performance.now();
            limiter.wait(operation, cost, options?.signal, budgetMs).then(() => {
              const left = Math.max(1, Math.round(budgetMs - (performance.now() - since)));
              const started = (): void => start(resolve, reject, { ...options, totalTimeoutMs: left });
              // Started from the limiter's timer: the call's span is made active again.
              if (traced === undefined) started();
              else this.#spans!.within(traced, started);
            }, reject);
          };
    if (traced === undefined) return new Promise<T>(call);
    return this.#spans!.traced(traced, span, call);
  }

  /** A call's real token usage in place of its estimate, once the provider reported it. */
  correctCost(cost: RateCost, tokens: number): void {
    if (this.#limiter === undefined) cost.tokens = tokens;
    else this.#limiter.correct(cost, tokens);
  }

  /** An InfraError about this component, for adapters and port code to throw. */
  error(
    reason: ErrorReason,
    operation: string,
    message: string,
    options: InfraErrorOptions = {},
  ): InfraError {
    return this.#errors.error(reason, operation, message, options);
  }

  /** A `validation` error about one input, in the shape every input check uses: `<path>: <message>`. */
  invalid(operation: string, path: string, message: string, options: InfraErrorOptions = {}): InfraError {
    return this.#errors.invalid(operation, path, message, options);
  }

  /** Counts a retry made outside `run`: a whole transaction run again after a conflict. */
  countRetry(operation: string): void {
    this.#retries.inc({ [attributes.component]: this.id, [attributes.operation]: operation });
  }

  /** A driver error classified by the adapter's table, for failures that happen outside `run`. */
  toInfraError(operation: string, cause: unknown): InfraError {
    return this.#errors.classified(operation, cause);
  }

  /** The adapter's own probe, bounded by the health deadline, with the breaker's state; never throws. */
  async health(
    probe: (signal: AbortSignal) => Promise<HealthResult>,
    signal?: AbortSignal,
  ): Promise<HealthResult> {
    if (this.#closed) return { status: 'down', error: 'closed' };
    const started = performance.now();
    const credentials = this.#credentials;
    // A probe refused for its credentials asks once more after they were read again, as a call does.
    const checked =
      credentials === undefined
        ? probe
        : (probeSignal: AbortSignal): Promise<HealthResult> =>
            probe(probeSignal).catch(async (error: unknown) => {
              const refused = this.#errors.classified('health', error).reason === 'unauthorized';
              if (!refused || !(await credentials.renew())) throw error;
              return probe(probeSignal);
            });
    let result = await probeWithin(checked, signal, this.policies.healthTimeoutMs, (error) =>
      this.#errors.classified('health', error),
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
    if (this.#closed === undefined)
      this.#limiter?.rejectQueued(this.#errors.error('closed', 'call', 'component is closed'));
    this.#closed ??= closeAdapter().catch((error: unknown) => {
      this.logger.warn({ err: error }, 'close failed');
    });
    return this.#closed;
  }

  // A limiter only when the policies ask for one: without it a call pays nothing for the option.
  #rateLimiter(): RateLimiter | undefined {
    const policy = this.policies.rateLimit;
    if (policy === undefined) return undefined;
    return new RateLimiter({
      policy,
      refused: (why, waitedMs, operation) =>
        this.#errors.error(
          'rate_limited',
          operation,
          why === 'full'
            ? `rate limit queue is full (${policy.maxQueued ?? 100} calls waiting)`
            : `waited ${Math.round(waitedMs)} ms for the rate limit, the call's whole budget`,
        ),
    });
  }

  // The breaker's state as a gauge, its changes logged.
  #monitoredBreaker(runtime: Runtime): CircuitBreaker {
    const gauge = gaugeOn(runtime.registry, circuitBreakerState);
    const labels = { [attributes.component]: this.id };
    gauge.set(labels, 0);
    const policy = this.policies.breaker;
    return new CircuitBreaker({
      breaker: policy.createBreaker?.() ?? new ConsecutiveBreaker(policy.consecutiveFailures),
      halfOpenAfterMs: policy.halfOpenAfterMs,
      onStateChange: (state) => {
        gauge.set(labels, breakerStateValue[state]);
        const log = state === 'open' ? this.logger.warn : this.logger.info;
        log.call(this.logger, { circuit: state }, `circuit ${state}`);
      },
    });
  }
}
