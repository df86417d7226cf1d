import type { OperationOptions } from '../../ports/component.ts';
import { AbortableOperation } from './abortable-operation.ts';
import { deadlineScheduler, PendingOperation } from './deadline-scheduler.ts';

/** What `guard()` needs to know of a call's budget before each attempt. */
export interface CallBudget {
  /** The whole call's budget, retries and backoff included. */
  readonly budgetMs: number;
  /** When the call began, by `performance.now()`. */
  readonly startedAt: number;
}

/** A retry: its number, and its deadline, which is what is left of the budget when that is shorter. */
export interface RetryAttempt extends CallBudget {
  readonly attempt: number;
  readonly deadlineMs: number;
  /** True when the deadline is the budget's end rather than the attempt's own `timeoutMs`. */
  readonly budgetCut: boolean;
}

/**
 * The budget of one call: the caller's `totalTimeoutMs`, else the adapter's. A caller that gives
 * an attempt a longer `timeoutMs` than that budget still gets one whole attempt, as it did
 * before budgets existed (the executor passes each command's timeout this way).
 */
export function budgetOf(options: OperationOptions | undefined, policyBudgetMs: number): number {
  if (options === undefined) return policyBudgetMs;
  if (options.totalTimeoutMs !== undefined) return options.totalTimeoutMs;
  return options.timeoutMs === undefined ? policyBudgetMs : Math.max(policyBudgetMs, options.timeoutMs);
}

/** The next attempt of a call, or undefined when none fits in what is left of its budget. */
export function nextAttempt(
  call: CallBudget,
  attempt: number,
  timeoutMs: number,
  delayMs = 0,
): RetryAttempt | undefined {
  const leftMs = call.budgetMs - (performance.now() - call.startedAt) - delayMs;
  if (leftMs <= 0) return undefined;
  const budgetCut = leftMs <= timeoutMs;
  return { ...call, attempt, deadlineMs: budgetCut ? leftMs : timeoutMs, budgetCut };
}

export function budgetUsedUp(budgetMs: number, attempt: number): string {
  return `timed out: budget of ${budgetMs} ms for the call (totalTimeoutMs) used up in attempt ${attempt}`;
}

/**
 * The deadline of a retry. What is left of a budget is rarely a timeout the shared scheduler
 * already ticks for (it keeps one list per distinct value, forever), and retries are rare: a
 * timer of its own is the cheaper choice here.
 */
export class TimedAttempt extends AbortableOperation {
  readonly #timer: NodeJS.Timeout;
  #pending = true;

  constructor(deadlineMs: number, onExpire: () => void) {
    super();
    this.#timer = setTimeout(() => {
      this.#pending = false;
      onExpire();
    }, deadlineMs);
    // As the scheduler's timers: the driver's socket, not the deadline, keeps a process alive.
    this.#timer.unref();
  }

  /** Returns false when the deadline had already passed. */
  clear(): boolean {
    if (!this.#pending) return false;
    this.#pending = false;
    clearTimeout(this.#timer);
    return true;
  }
}

/** Stops an attempt's deadline; false when it had already expired. */
export function clearDeadline(deadline: PendingOperation | TimedAttempt): boolean {
  return deadline instanceof PendingOperation ? deadlineScheduler.remove(deadline) : deadline.clear();
}
