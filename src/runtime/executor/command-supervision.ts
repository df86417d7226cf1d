import type { OperationContext } from '../../ports/component.ts';
import type { StartedCommand } from '../../ports/executor.ts';

/** Why a command was cut short. */
export type Cut = 'timeout' | 'aborted' | 'closed';

const noop = (): undefined => undefined;

/** The deadline, abort and close of one started command: each terminates its process group. */
export class Supervision {
  cut: Cut | undefined = undefined;
  /** Resolves when the command is cut short. */
  readonly whenCut: Promise<void>;
  #onCut: () => void = noop;
  readonly #child: StartedCommand;
  readonly #ctx: OperationContext;
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #onAbort = (): void => this.terminate('aborted');

  constructor(child: StartedCommand, timeoutMs: number, ctx: OperationContext, closed: boolean) {
    this.#child = child;
    this.#ctx = ctx;
    this.whenCut = new Promise((resolve) => (this.#onCut = resolve));
    this.#timer = Number.isFinite(timeoutMs)
      ? setTimeout(() => this.terminate('timeout'), timeoutMs)
      : undefined;
    if (closed) this.terminate('closed');
    else if (ctx.signal.aborted) this.terminate('aborted');
    else ctx.signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  terminate(cut: Cut): void {
    this.cut ??= cut;
    this.#onCut();
    this.#child.terminate();
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#ctx.signal.removeEventListener('abort', this.#onAbort);
  }
}
