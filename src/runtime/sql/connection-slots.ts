import type { OperationOptions } from '../../ports/component.ts';
import type { SqlOperation } from '../../ports/sql-database.ts';
import { budgetOf } from '../guard/call-budget.ts';
import { ConcurrencyLimit } from '../guard/concurrency-limit.ts';
import type { Guard } from '../guard/guard.ts';

// What a caller waiting for a connection is rejected with past `acquireTimeoutMs`, then reported as `timeout`.
const slotWaitExpired = new Error('no connection was free in time');

/**
 * At most `poolSize` connections in use, with a bounded queue and wait in front of the driver's
 * pool. A wait for a connection is part of a call's budget: never longer than the budget itself,
 * and a call that waited runs with what is left.
 */
export class ConnectionSlots {
  readonly acquireTimeoutMs: number;
  readonly #guard: Guard<SqlOperation>;
  readonly #budgetMs: number;
  readonly #limit: ConcurrencyLimit;

  constructor(guard: Guard<SqlOperation>, poolSize: number, maxWaiting: number, acquireTimeoutMs: number) {
    this.#guard = guard;
    this.#budgetMs = guard.policies.totalTimeoutMs ?? guard.policies.timeoutMs;
    this.acquireTimeoutMs = Math.min(acquireTimeoutMs, this.#budgetMs);
    // One timer for the whole queue: every caller waits as long, so they expire oldest first.
    this.#limit = new ConcurrencyLimit(poolSize, maxWaiting, {
      maxWaitMs: this.acquireTimeoutMs,
      expired: () => slotWaitExpired,
    });
  }

  /** The queue, for health details. */
  get status(): { waiting: number; limit: number } {
    return { waiting: this.#limit.queued, limit: this.#limit.concurrency };
  }

  /** When a caller coming now starts to wait, undefined when a slot is free. */
  waitStarted(): number | undefined {
    return this.#limit.running < this.#limit.concurrency ? undefined : performance.now();
  }

  /**
   * Holds one of the pool's slots, waiting `acquireTimeoutMs` at most. No timer or signal per
   * call: they cost more client CPU than pg's own work for a statement on a local server.
   */
  async acquire(operation: SqlOperation, signal: AbortSignal | undefined): Promise<() => void> {
    const limit = this.#limit;
    if (this.#guard.closed) throw this.#guard.error('closed', operation, 'component is closed');
    // With a slot free no caller waits (a released slot goes to the first waiter): taken at once.
    if (limit.running < limit.concurrency) void limit.acquire();
    else await this.#waitForSlot(operation, signal);
    let held = true;
    return () => {
      if (held) limit.release();
      held = false;
    };
  }

  /** A call that waited for a connection gets what is left of its budget (`totalTimeoutMs`). */
  leftAfterWait(
    operation: SqlOperation,
    opts: OperationOptions | undefined,
    waitedMs: number,
  ): OperationOptions {
    const leftMs = Math.floor(budgetOf(opts, this.#budgetMs) - waitedMs);
    if (leftMs <= 0) {
      throw this.#guard.error(
        'timeout',
        operation,
        `the budget was used up waiting ${Math.round(waitedMs)} ms for a connection`,
      );
    }
    return { ...opts, totalTimeoutMs: leftMs };
  }

  rejectQueued(error: unknown): void {
    this.#limit.rejectQueued(error);
  }

  async #waitForSlot(operation: SqlOperation, signal: AbortSignal | undefined): Promise<void> {
    const limit = this.#limit;
    const wait = limit.acquire(signal);
    if (wait === undefined) {
      throw this.#guard.error(
        'rate_limited',
        operation,
        `${limit.maxQueued} calls already wait for one of ${limit.concurrency} connections`,
      );
    }
    try {
      await wait;
    } catch (error) {
      if (error !== slotWaitExpired) throw error; // the caller's abort, or the port closing
      throw this.#guard.error(
        'timeout',
        operation,
        `no connection of ${limit.concurrency} was free within ${this.acquireTimeoutMs} ms`,
      );
    }
  }
}
