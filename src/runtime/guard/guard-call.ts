import type { Span } from '@opentelemetry/api';
import type { OperationContext, OperationOptions } from '../../ports/component.ts';
import type { RetryAttempt } from './call-budget.ts';
import type { CallLabels } from './guard-spec.ts';
import type { RateCost } from './rate-limit.ts';

/**
 * One attempt of a call `Guard#run` makes: what the caller asked for and where its outcome goes.
 * Made once per call (a retry makes its own), in one shape, so the attempt code stays monomorphic.
 */
export interface GuardCall<Op extends string, R, T> {
  readonly operation: Op;
  /** The caller's signal, `timeoutMs` and `totalTimeoutMs`. */
  readonly options: OperationOptions | undefined;
  /** The adapter's work for one attempt. */
  readonly fn: (ctx: OperationContext) => Promise<R>;
  /** Turns the adapter's result into the port's, inside the same promise. */
  readonly map: ((value: R) => T) | undefined;
  /** Labels of the call's duration series from its result. */
  readonly labels: CallLabels<R> | undefined;
  /** The call's span when it is traced: a retry is one of its events. */
  readonly span: Span | undefined;
  /** What the call counts against a token rate limit. */
  readonly cost: RateCost | undefined;
  /** Whether a failure of this attempt may be retried: an idempotent operation's first attempt. */
  readonly retries: boolean;
  /** Set on a retry: its number and its deadline within the call's budget. */
  readonly retry: RetryAttempt | undefined;
  /** True once the credentials were read again for this call: never twice for one call. */
  readonly renewed: boolean;
  readonly resolve: (value: T) => void;
  readonly reject: (error: unknown) => void;
}

/** What starts an attempt: the retry loop is handed one, so it needs no import of the attempt code. */
export interface StartsAttempts<Op extends string> {
  start<R, T>(call: GuardCall<Op, R, T>): void;
}

/** What the attempt code asks of the guard it belongs to. */
export interface GuardState {
  readonly closed: boolean;
}
