import type { OperationContext } from '../../ports/component.ts';

type AbortListener = (reason: unknown) => void;

/**
 * The abort side of an operation guard() runs. Its AbortController is made only when an adapter
 * reads `signal`: most calls end without an abort, and a controller with a listener costs a
 * statement on a local database some microseconds. `onAbort` and `aborted` make none.
 */
export class AbortableOperation implements OperationContext {
  #controller: AbortController | undefined = undefined;
  #listeners: AbortListener[] | undefined = undefined;
  #aborted = false;
  #reason: unknown = undefined;

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  /** As a listener on `signal`: called on a later abort, not for one that already happened. */
  onAbort(listener: AbortListener): () => void {
    if (this.#aborted) return noop;
    (this.#listeners ??= []).push(listener);
    return () => {
      const index = this.#listeners?.indexOf(listener) ?? -1;
      if (index >= 0) this.#listeners!.splice(index, 1);
    };
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    this.#controller?.abort(reason);
    for (const listener of listeners ?? []) listener(reason);
  }
}

const noop = (): void => undefined;

/** Calls `listener` once if `ctx` aborts later (as `addEventListener`); returns what stops listening. */
export function onAbort(ctx: OperationContext, listener: AbortListener): () => void {
  if (ctx.onAbort !== undefined) return ctx.onAbort(listener);
  const { signal } = ctx;
  const handler = (): void => listener(signal.reason);
  signal.addEventListener('abort', handler, { once: true });
  return () => signal.removeEventListener('abort', handler);
}

/** Whether `ctx` was aborted, without making its signal when it can tell otherwise. */
export function isAborted(ctx: OperationContext): boolean {
  return ctx.aborted ?? ctx.signal.aborted;
}
