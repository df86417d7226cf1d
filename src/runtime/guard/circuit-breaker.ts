import { CircuitState, ConsecutiveBreaker, type IBreaker } from 'cockatiel';

export interface CircuitBreakerOptions {
  /** cockatiel's breaker strategy decides when to open; default: 5 consecutive failures. */
  breaker?: IBreaker;
  /** How long the circuit stays open before one trial call is let through. */
  halfOpenAfterMs: number;
  now?: () => number;
  onStateChange?: (state: CircuitBreakerState['kind']) => void;
}

export type CircuitBreakerState =
  { kind: 'closed' } | { kind: 'open'; openedAt: number } | { kind: 'half-open'; trialInFlight: boolean };

/**
 * One breaker per dependency. cockatiel's strategies decide when to open; this state
 * machine is synchronous so the closed-circuit path costs a field read, not a promise.
 */
export class CircuitBreaker {
  #state: CircuitBreakerState = { kind: 'closed' };
  readonly #breaker: IBreaker;
  readonly #halfOpenAfterMs: number;
  readonly #now: () => number;
  readonly #onStateChange: ((state: CircuitBreakerState['kind']) => void) | undefined;

  constructor(options: CircuitBreakerOptions) {
    this.#breaker = options.breaker ?? new ConsecutiveBreaker(5);
    this.#halfOpenAfterMs = options.halfOpenAfterMs;
    this.#now = options.now ?? Date.now;
    this.#onStateChange = options.onStateChange;
  }

  get state(): CircuitBreakerState {
    return this.#state;
  }

  /** Whether a call may proceed now; in half-open only one trial call is let through. */
  tryAcquire(): boolean {
    const state = this.#state;
    if (state.kind === 'closed') return true;
    if (state.kind === 'open') {
      if (this.#now() - state.openedAt < this.#halfOpenAfterMs) return false;
      this.#transition({ kind: 'half-open', trialInFlight: true });
      return true;
    }
    if (state.trialInFlight) return false;
    state.trialInFlight = true;
    return true;
  }

  /** Milliseconds until a trial call is allowed, for `retryAfterMs`. */
  remainingOpenMs(): number {
    const state = this.#state;
    return state.kind === 'open' ? Math.max(0, this.#halfOpenAfterMs - (this.#now() - state.openedAt)) : 0;
  }

  success(): void {
    const state = this.#state;
    if (state.kind === 'closed') {
      this.#breaker.success(CircuitState.Closed);
      return;
    }
    this.#breaker.success(CircuitState.HalfOpen);
    this.#transition({ kind: 'closed' });
  }

  failure(): void {
    const state = this.#state;
    if (state.kind === 'half-open') {
      this.#transition({ kind: 'open', openedAt: this.#now() });
    } else if (state.kind === 'closed' && this.#breaker.failure(CircuitState.Closed)) {
      this.#transition({ kind: 'open', openedAt: this.#now() });
    }
  }

  /** A call that ended without telling anything about the dependency (e.g. a validation error). */
  release(): void {
    const state = this.#state;
    if (state.kind === 'half-open') state.trialInFlight = false;
  }

  #transition(next: CircuitBreakerState): void {
    const changed = next.kind !== this.#state.kind;
    this.#state = next;
    if (changed) this.#onStateChange?.(next.kind);
  }
}
