import './supported-node.ts';

/** The fixed set of reasons an infrastructure operation can fail for. */
export const errorReasons = [
  'config',
  'validation',
  'not_found',
  'conflict',
  'unavailable',
  'timeout',
  'circuit_open',
  'rate_limited',
  'unauthorized',
  'closed',
  'internal',
] as const;
export type ErrorReason = (typeof errorReasons)[number];

const retryableByDefault: ReadonlySet<ErrorReason> = new Set(['unavailable', 'timeout', 'rate_limited']);

export interface InfraErrorOptions {
  retryable?: boolean;
  port?: string;
  adapter?: string;
  operation?: string;
  cause?: unknown;
  retryAfterMs?: number;
}

// A marker property, not instanceof, so two copies of berth in one process recognise each other's errors.
const infraErrorMarker = Symbol.for('berth.InfraError');

export class InfraError extends Error {
  readonly [infraErrorMarker] = true;
  readonly reason: ErrorReason;
  readonly retryable: boolean;
  readonly port: string | undefined;
  readonly adapter: string | undefined;
  readonly operation: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(reason: ErrorReason, message: string, options: InfraErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'InfraError';
    this.reason = reason;
    this.retryable = options.retryable ?? retryableByDefault.has(reason);
    this.port = options.port;
    this.adapter = options.adapter;
    this.operation = options.operation;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function isInfraError(value: unknown): value is InfraError {
  return typeof value === 'object' && value !== null && infraErrorMarker in value;
}

export interface ConfigIssue {
  /** Dotted path of the offending option, e.g. `cache.url`; empty for the whole object. */
  path: string;
  message: string;
}

/** `path: message; path: message`: how every config and validation error lists what is wrong. */
export function describeIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; ');
}

export class ConfigError extends InfraError {
  readonly issues: readonly ConfigIssue[];

  constructor(subject: string, issues: readonly ConfigIssue[]) {
    super('config', `Invalid ${subject}: ${describeIssues(issues)}`, { retryable: false });
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** What an adapter's error table says about a driver error. */
export interface ErrorClassification {
  reason: ErrorReason;
  retryable?: boolean;
  retryAfterMs?: number;
  /** A message safe to show: no credentials, no payloads. */
  message?: string;
}
