import { pino, type Logger } from 'pino';
import { register as globalRegistry, type Registry } from 'prom-client';
import type { IBreaker } from 'cockatiel';
import { redactCredentials } from '../ports/redacted.ts';
import { ConfigError, isInfraError } from '../ports/errors.ts';
import {
  createTracing,
  openTelemetryApi,
  traceLogFields,
  type Tracing,
  type TracingOptions,
} from './telemetry/tracing.ts';
import type { RateLimitPolicy } from './guard/rate-limit.ts';

export type { RateLimitPolicy } from './guard/rate-limit.ts';

export interface RetryPolicy {
  /** Attempts in all, the first included; 1 disables retries. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface BreakerPolicy {
  /** Consecutive failures that open the circuit, unless `breaker` is given. */
  consecutiveFailures: number;
  halfOpenAfterMs: number;
  /** Any cockatiel breaker strategy (e.g. `new SamplingBreaker(...)`), built per adapter. */
  createBreaker?: () => IBreaker;
}

export interface Policies {
  /** Deadline of one attempt of one operation. */
  timeoutMs: number;
  /**
   * Budget of one call, its retries and their backoff included; an attempt is cut to what is
   * left of it. Default `timeoutMs`: a hang is not retried, quick failures are.
   */
  totalTimeoutMs?: number | undefined;
  /** Deadline of a health probe. */
  healthTimeoutMs: number;
  retry: RetryPolicy;
  breaker: BreakerPolicy;
  /** Requests and tokens per minute, and the cooldown after a 429; none unless given. */
  rateLimit?: RateLimitPolicy | undefined;
}

type Overrides<T> = { [K in keyof T]?: T[K] | undefined };

export interface PolicyOverrides {
  timeoutMs?: number | undefined;
  totalTimeoutMs?: number | undefined;
  healthTimeoutMs?: number | undefined;
  retry?: Overrides<RetryPolicy> | undefined;
  breaker?: Overrides<BreakerPolicy> | undefined;
  rateLimit?: RateLimitPolicy | undefined;
}

/** What every adapter factory receives: the one thing an application injects. */
export interface Runtime {
  readonly logger: Logger;
  readonly registry: Registry;
  readonly policies: Policies;
  /** OpenTelemetry spans and context; undefined without `@opentelemetry/api` or when switched off. */
  readonly tracing?: Tracing | undefined;
}

export interface RuntimeOptions {
  logger?: Logger;
  registry?: Registry;
  policies?: PolicyOverrides;
  tracing?: TracingOptions;
}

export const defaultPolicies: Policies = {
  timeoutMs: 2_000,
  healthTimeoutMs: 1_000,
  retry: { maxAttempts: 3, initialDelayMs: 50, maxDelayMs: 1_000 },
  breaker: { consecutiveFailures: 5, halfOpenAfterMs: 2_000 },
};

export function mergePolicies(base: Policies, overrides: PolicyOverrides | undefined): Policies {
  if (overrides === undefined) return base;
  return {
    timeoutMs: overrides.timeoutMs ?? base.timeoutMs,
    totalTimeoutMs: overrides.totalTimeoutMs ?? base.totalTimeoutMs,
    healthTimeoutMs: overrides.healthTimeoutMs ?? base.healthTimeoutMs,
    retry: { ...base.retry, ...definedOnly<RetryPolicy>(overrides.retry) },
    breaker: { ...base.breaker, ...definedOnly<BreakerPolicy>(overrides.breaker) },
    rateLimit:
      overrides.rateLimit === undefined
        ? base.rateLimit
        : { ...base.rateLimit, ...definedOnly<RateLimitPolicy>(overrides.rateLimit) },
  };
}

// Spreading `{ maxAttempts: undefined }` would erase the default it means to keep.
function definedOnly<T extends object>(value: Overrides<T> | undefined): Partial<T> {
  if (value === undefined) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Serializes errors for logs with credentials stripped from every message in the cause chain. */
export function serializeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: redactCredentials(String(error)) };
  const out: Record<string, unknown> = { type: error.name, message: redactCredentials(error.message) };
  if (isInfraError(error)) {
    out.reason = error.reason;
    out.retryable = error.retryable;
    if (error.operation !== undefined) out.operation = error.operation;
  }
  if (error.cause !== undefined) out.cause = serializeError(error.cause);
  return out;
}

/** Keys whose values never reach a log line, wherever they appear in a logged object. */
export const redactedLogPaths = [
  'password',
  '*.password',
  'url',
  '*.url',
  'connectionString',
  '*.connectionString',
  'apiKey',
  '*.apiKey',
  'token',
  '*.token',
];

/** The levels a logger takes, pino's, most severe first; `silent` logs nothing. */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/**
 * The level given, else `LOG_LEVEL` (empty counts as unset), else `fallback`. One that is not a
 * level is a ConfigError naming `level` or `LOG_LEVEL` and listing the levels, rather than
 * pino's `default level:… must be included in custom levels`.
 */
export function logLevelOf(level: string | undefined, fallback: LogLevel = 'info'): LogLevel {
  const fromEnv = process.env.LOG_LEVEL || undefined;
  const chosen = level ?? fromEnv ?? fallback;
  if ((logLevels as readonly string[]).includes(chosen)) return chosen as LogLevel;
  throw new ConfigError('logger', [
    { path: level === undefined ? 'LOG_LEVEL' : 'level', message: `must be one of ${logLevels.join(', ')}` },
  ]);
}

/** A pino logger named `berth`: `options.level`, else `LOG_LEVEL`, else `info`; credentials redacted. */
export function createLogger(options: { level?: string } = {}, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      name: 'berth',
      level: logLevelOf(options.level),
      redact: { paths: redactedLogPaths, censor: '<redacted>' },
      serializers: { err: serializeError },
      // Lines written inside a span carry its trace_id and span_id, so logs join traces.
      ...(openTelemetryApi() === undefined ? {} : { mixin: traceLogFields }),
    },
    destination,
  );
}

export function createRuntime(options: RuntimeOptions = {}): Runtime {
  return {
    logger: options.logger ?? createLogger(),
    registry: options.registry ?? globalRegistry,
    policies: mergePolicies(defaultPolicies, options.policies),
    tracing: createTracing(options.tracing),
  };
}

let sharedDefault: Runtime | undefined;

/**
 * The runtime an adapter uses when the application passes none. Its logger writes warnings and
 * errors only, unless `LOG_LEVEL` asks for more: an adapter built without a runtime (in a test,
 * a script) was not asked to log its info lines, and they would flood the test output.
 */
export function defaultRuntime(): Runtime {
  sharedDefault ??= createRuntime({ logger: createLogger({ level: logLevelOf(undefined, 'warn') }) });
  return sharedDefault;
}
