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

/**
 * What names a port everywhere, written once beside its operations: its key in the composition
 * root, its name in telemetry and errors, its component ids, its variables and its criticality.
 */
export interface PortDefinition<Op extends string = string> {
  /** Its key in the composition root: `infra.documents`, `{ documents: { driver } }`. */
  readonly key: string;
  /** Its name in telemetry and errors: `document-store`. */
  readonly name: string;
  /** First part of its component ids: `documents:mongodb`, `documents:<instance>`. */
  readonly idPrefix: string;
  /** `<envPrefix>_DRIVER` picks its driver, `<envPrefix>_TIMEOUT_MS` its deadline. */
  readonly envPrefix: string;
  /** Down makes readiness down (true) or degraded (false). */
  readonly critical: boolean;
  /** The driver that needs no server, for `memoryDefaults` and the test infrastructure. */
  readonly inMemoryDriver: string;
  readonly operations: OperationSpecs<Op>;
}
