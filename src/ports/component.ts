export type HealthStatus = 'up' | 'degraded' | 'down';

export interface HealthResult {
  status: HealthStatus;
  latencyMs?: number;
  details?: Record<string, unknown>;
  error?: string;
}

/** The base contract of every port. */
export interface Component extends AsyncDisposable {
  /** e.g. `cache:redis`, or the name the application gives it. */
  readonly id: string;
  /** Never throws; bounded by a deadline. */
  health(signal?: AbortSignal): Promise<HealthResult>;
  /** Idempotent. */
  close(): Promise<void>;
}

/** Options every port operation accepts. */
export interface OperationOptions {
  signal?: AbortSignal;
  /** Overrides the deadline of each attempt; the call's budget is then at least this long. */
  timeoutMs?: number;
  /** Overrides the budget of the whole call, retries included (`policies.totalTimeoutMs`). */
  totalTimeoutMs?: number;
}

/** Whether an operation may be repeated safely; `guard()` retries only idempotent ones. */
export interface OperationSpec {
  idempotent: boolean;
}
export type OperationSpecs<Name extends string> = Readonly<Record<Name, OperationSpec>>;

/** What `guard()` hands to an adapter's operation. */
export interface OperationContext {
  /** Aborted when the deadline passes, the caller aborts, or the component closes. */
  readonly signal: AbortSignal;
  /** Whether it was aborted; optional, and cheaper than `signal.aborted` where present. */
  readonly aborted?: boolean;
  /** Calls `listener` once on abort, returns what stops listening; optional, cheaper than `signal`'s. */
  onAbort?(listener: (reason: unknown) => void): () => void;
}
