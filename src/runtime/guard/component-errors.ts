import {
  describeIssues,
  InfraError,
  isInfraError,
  type ErrorClassification,
  type ErrorReason,
  type InfraErrorOptions,
} from '../../ports/errors.ts';
import { redactCredentials } from '../../ports/redacted.ts';

/** The InfraErrors of one component: its id, port and adapter on each, driver errors classified by the adapter's table. */
export class ComponentErrors {
  readonly #id: string;
  readonly #port: string;
  readonly #system: string;
  readonly #classify: (error: unknown) => ErrorClassification;

  constructor(id: string, port: string, system: string, classify: (error: unknown) => ErrorClassification) {
    this.#id = id;
    this.#port = port;
    this.#system = system;
    this.#classify = classify;
  }

  error(
    reason: ErrorReason,
    operation: string,
    message: string,
    options: InfraErrorOptions = {},
  ): InfraError {
    return new InfraError(reason, `${this.#id} ${operation}: ${message}`, {
      port: this.#port,
      adapter: this.#system,
      operation,
      ...options,
    });
  }

  /** A `validation` error about one input, in the shape every input check uses: `<path>: <message>`. */
  invalid(operation: string, path: string, message: string, options: InfraErrorOptions = {}): InfraError {
    return this.error('validation', operation, describeIssues([{ path, message }]), options);
  }

  /** An InfraError stays as it is; anything else is classified, with credentials redacted from its message. */
  classified(operation: string, cause: unknown): InfraError {
    if (isInfraError(cause)) return cause;
    const classified = this.#classify(cause);
    const detail = classified.message ?? (cause instanceof Error ? cause.message : String(cause));
    return this.error(classified.reason, operation, redactCredentials(detail), {
      cause,
      ...(classified.retryable === undefined ? {} : { retryable: classified.retryable }),
      ...(classified.retryAfterMs === undefined ? {} : { retryAfterMs: classified.retryAfterMs }),
    });
  }
}
