/** What one call counts against a token limit; the caller may correct it once usage is known. */
export interface RateCost {
  tokens: number;
}

export interface RateLimitPolicy {
  /** Calls started in any minute at most (retries included). */
  requestsPerMinute?: number | undefined;
  /** Tokens in any minute at most, each call counted by its estimate until its usage is known. */
  tokensPerMinute?: number | undefined;
  /** Calls waiting for the limit at most; past it a call fails with `rate_limited` at once. Default 100. */
  maxQueued?: number | undefined;
}

export interface RateLimitSettings {
  readonly policy: RateLimitPolicy;
  /** Default a minute; shorter in tests. */
  readonly windowMs?: number;
  /** The error of a call refused: the queue is full, or it waited as long as it may. */
  readonly refused: (why: 'full' | 'expired', waitedMs: number, operation: string) => unknown;
}

interface Started {
  readonly at: number;
  readonly cost: RateCost | undefined;
}

interface Waiter {
  readonly cost: RateCost | undefined;
  readonly since: number;
  readonly operation: string;
  readonly expiresAt: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * Requests and tokens per sliding minute for one client, with a bounded queue in arrival order
 * and a cooldown: `pause(ms)` (a 429's Retry-After) holds every call until it ends. One timer,
 * for the next moment the head of the queue can start or a waiter's time is up.
 */
export class RateLimiter {
  readonly #requests: number;
  readonly #tokens: number;
  readonly #maxQueued: number;
  readonly #windowMs: number;
  readonly #refused: RateLimitSettings['refused'];
  readonly #log: Started[] = [];
  readonly #queue: Waiter[] = [];
  #pausedUntil = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(settings: RateLimitSettings) {
    const { policy } = settings;
    this.#requests = policy.requestsPerMinute ?? Infinity;
    this.#tokens = policy.tokensPerMinute ?? Infinity;
    this.#maxQueued = policy.maxQueued ?? 100;
    this.#windowMs = settings.windowMs ?? 60_000;
    this.#refused = settings.refused;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Until when calls are held by a cooldown (`performance.now()` time), 0 when none. */
  get pausedUntil(): number {
    return this.#pausedUntil;
  }

  /** Starts a call now if the limits allow and nobody is waiting; false means `wait`. */
  take(cost: RateCost | undefined): boolean {
    const now = performance.now();
    if (this.#queue.length > 0 || !this.#fits(cost, now)) return false;
    this.#log.push({ at: now, cost });
    return true;
  }

  /** Resolves when the call may start, in arrival order; rejects when the queue is full or after `maxWaitMs`. */
  wait(
    operation: string,
    cost: RateCost | undefined,
    signal: AbortSignal | undefined,
    maxWaitMs: number,
  ): Promise<void> {
    if (this.#queue.length >= this.#maxQueued) return Promise.reject(this.#refused('full', 0, operation));
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<void>((resolve, reject) => {
      const since = performance.now();
      const waiter: Waiter = {
        cost,
        since,
        operation,
        expiresAt: since + maxWaitMs,
        resolve,
        reject,
        signal,
        onAbort: undefined,
      };
      if (signal) {
        waiter.onAbort = () => {
          this.#remove(waiter);
          reject(signal.reason as unknown);
          this.#drain();
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#queue.push(waiter);
      this.#drain();
    });
  }

  /** The call's real usage, replacing its estimate: waiters may start sooner (or later). */
  correct(cost: RateCost, tokens: number): void {
    cost.tokens = tokens;
    if (this.#queue.length > 0) this.#drain();
  }

  /** Holds every call that has not started until `ms` from now. */
  pause(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, performance.now() + ms);
    this.#drain();
  }

  /** Rejects every waiting call, e.g. on close. */
  rejectQueued(error: unknown): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const waiter of this.#queue.splice(0)) this.#settle(waiter).reject(error);
  }

  #fits(cost: RateCost | undefined, now: number): boolean {
    if (now < this.#pausedUntil) return false;
    this.#prune(now);
    if (this.#log.length >= this.#requests) return false;
    if (this.#tokens === Infinity) return true;
    const used = this.#used();
    // A call larger than the whole limit goes alone, once the window is empty.
    return used === 0 || used + (cost?.tokens ?? 0) <= this.#tokens;
  }

  #used(): number {
    let sum = 0;
    for (const started of this.#log) sum += started.cost?.tokens ?? 0;
    return sum;
  }

  #prune(now: number): void {
    let expired = 0;
    while (expired < this.#log.length && this.#log[expired]!.at <= now - this.#windowMs) expired++;
    if (expired > 0) this.#log.splice(0, expired);
  }

  // When the head could start: the cooldown's end, a request slot freed, enough tokens freed.
  #startsAt(cost: RateCost | undefined, now: number): number {
    let at = Math.max(now, this.#pausedUntil);
    const log = this.#log;
    if (log.length >= this.#requests)
      at = Math.max(at, log[log.length - this.#requests]!.at + this.#windowMs);
    if (this.#tokens !== Infinity) {
      let used = this.#used();
      for (const started of log) {
        if (used === 0 || used + (cost?.tokens ?? 0) <= this.#tokens) break;
        used -= started.cost?.tokens ?? 0;
        at = Math.max(at, started.at + this.#windowMs);
      }
    }
    return at;
  }

  #drain(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    let now = performance.now();
    for (const waiter of [...this.#queue])
      if (waiter.expiresAt <= now) {
        this.#remove(waiter);
        this.#settle(waiter).reject(this.#refused('expired', now - waiter.since, waiter.operation));
      }
    while (this.#queue.length > 0 && this.#fits(this.#queue[0]!.cost, now)) {
      const waiter = this.#queue.shift()!;
      this.#log.push({ at: now, cost: waiter.cost });
      this.#settle(waiter).resolve();
      now = performance.now();
    }
    const head = this.#queue[0];
    if (head === undefined) return;
    const soonestExpiry = Math.min(...this.#queue.map((w) => w.expiresAt));
    const next = Math.min(this.#startsAt(head.cost, now), soonestExpiry);
    // Not unref'd: this timer is what starts the waiting calls, so it must keep the process up.
    this.#timer = setTimeout(() => this.#drain(), Math.max(1, Math.ceil(next - now)));
  }

  #remove(waiter: Waiter): void {
    const index = this.#queue.indexOf(waiter);
    if (index >= 0) this.#queue.splice(index, 1);
  }

  #settle(waiter: Waiter): Waiter {
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    return waiter;
  }
}
