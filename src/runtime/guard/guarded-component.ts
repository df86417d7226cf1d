import type { Component, HealthResult } from '../../ports/component.ts';
import type { Guard } from './guard.ts';

/**
 * The `Component` part of a guarded port: `id`, `health()` (the adapter's probe through the
 * guard), idempotent `close()` and disposal. A port is a record of functions that `{ ...port }`
 * copies whole (`extendPort`, a test's wrapper), so these and a port's operations are own arrow
 * fields, never prototype methods, and its state is private.
 */
export abstract class GuardedComponent<Op extends string> implements Component {
  readonly id: string;
  readonly #guard: Guard<Op>;

  constructor(guard: Guard<Op>) {
    this.#guard = guard;
    this.id = guard.id;
  }

  readonly health = (signal?: AbortSignal): Promise<HealthResult> =>
    this.#guard.health((probeSignal) => this.probe(probeSignal), signal);

  readonly close = (): Promise<void> => {
    this.beforeClose();
    return this.#guard.close(() => this.closeAdapter());
  };

  readonly [Symbol.asyncDispose] = (): Promise<void> => this.close();

  /** The adapter's probe, with what the port adds to its details. */
  protected abstract probe(signal: AbortSignal): Promise<HealthResult>;

  /** Runs once, on the first `close()`. */
  protected abstract closeAdapter(): Promise<void>;

  /** Runs on every `close()` before the guard closes, e.g. to cut work in flight. */
  protected beforeClose(): void {}
}
