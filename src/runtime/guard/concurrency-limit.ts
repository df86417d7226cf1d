interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** `performance.now()` past which it is rejected; Infinity without `maxWaitMs`. */
  expiresAt: number;
}

export interface WaitLimit {
  /** How long a caller waits for a slot at most. */
  maxWaitMs: number;
  /** The rejection of a caller that waited `maxWaitMs`. */
  expired: () => unknown;
}

/**
 * At most `concurrency` holders at once, at most `maxQueued` callers waiting for a slot, and
 * with `wait`, none waiting longer than `wait.maxWaitMs`. Every waiter waits as long, so they
 * expire in queue order: one timer, for the oldest, bounds them all.
 */
export class ConcurrencyLimit {
  readonly concurrency: number;
  readonly maxQueued: number;
  readonly #wait: WaitLimit | undefined;
  #running = 0;
  readonly #queue: Waiter[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(concurrency: number, maxQueued: number, wait?: WaitLimit) {
    this.concurrency = concurrency;
    this.maxQueued = maxQueued;
    this.#wait = wait;
  }

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Resolves once a slot is held, to be given back with `release()`. Returns undefined when
   * the queue is full; rejects with the signal's reason when it aborts (or has) while waiting.
   */
  acquire(signal?: AbortSignal): Promise<void> | undefined {
    if (this.#running < this.concurrency) {
      this.#running++;
      return Promise.resolve();
    }
    if (this.#queue.length >= this.maxQueued) return undefined;
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<void>((resolve, reject) => {
      const expiresAt = this.#wait === undefined ? Infinity : performance.now() + this.#wait.maxWaitMs;
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined, expiresAt };
      if (signal) {
        waiter.onAbort = () => {
          const index = this.#queue.indexOf(waiter);
          if (index >= 0) this.#queue.splice(index, 1);
          reject(signal.reason as unknown);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#queue.push(waiter);
      if (this.#queue.length === 1) this.#armTimer();
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
    if (this.#queue.length === 0) this.#disarmTimer();
    next.resolve();
  }

  /** Rejects every waiting caller, e.g. on close. */
  rejectQueued(error: unknown): void {
    this.#disarmTimer();
    for (const waiter of this.#queue.splice(0)) {
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.reject(error);
    }
  }

  // Armed for the oldest waiter; when it fires, rejects every waiter whose time is up.
  #armTimer(): void {
    const oldest = this.#queue[0];
    if (this.#wait === undefined || oldest === undefined || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, oldest.expiresAt - performance.now()));
    this.#timer.unref();
  }

  #disarmTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    while (this.#queue.length > 0 && this.#queue[0]!.expiresAt <= now) {
      const waiter = this.#queue.shift()!;
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.reject(this.#wait!.expired());
    }
    this.#armTimer();
  }
}
