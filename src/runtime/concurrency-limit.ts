interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** At most `concurrency` holders at once, and at most `maxQueued` callers waiting for a slot. */
export class ConcurrencyLimit {
  readonly concurrency: number;
  readonly maxQueued: number;
  #running = 0;
  readonly #queue: Waiter[] = [];

  constructor(concurrency: number, maxQueued: number) {
    this.concurrency = concurrency;
    this.maxQueued = maxQueued;
  }

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Resolves once a slot is held, to be given back with `release()`. Returns undefined when
   * the queue is full; rejects with the signal's reason when it aborts while waiting.
   */
  acquire(signal?: AbortSignal): Promise<void> | undefined {
    if (this.#running < this.concurrency) {
      this.#running++;
      return Promise.resolve();
    }
    if (this.#queue.length >= this.maxQueued) return undefined;
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          const index = this.#queue.indexOf(waiter);
          if (index >= 0) this.#queue.splice(index, 1);
          reject(signal.reason as unknown);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#queue.push(waiter);
    });
  }

  /** Gives a slot back; the longest waiting caller gets it. */
  release(): void {
    const next = this.#queue.shift();
    if (next === undefined) {
      this.#running--;
      return;
    }
    if (next.onAbort) next.signal?.removeEventListener('abort', next.onAbort);
    next.resolve();
  }

  /** Rejects every waiting caller, e.g. on close. */
  rejectQueued(error: unknown): void {
    for (const waiter of this.#queue.splice(0)) {
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.reject(error);
    }
  }
}
