import { setTimeout as sleep } from 'node:timers/promises';
import type {
  BrokerAdapter,
  BrokerOperation,
  ConsumerLoop,
  ConsumerLoopOptions,
} from '../../ports/broker.ts';
import type { ErrorReason, InfraError } from '../../ports/errors.ts';
import { redactCredentials } from '../../ports/redacted.ts';
import { backoffDelayMs, type BackoffPolicy } from '../guard/backoff.ts';
import type { Guard } from '../guard/guard.ts';

export type ConsumerState =
  | { kind: 'starting' }
  | { kind: 'running' }
  | { kind: 'restarting'; since: number; lastError: string }
  | { kind: 'failed'; error: string }
  | { kind: 'closed' };

export interface RestartLimits {
  /** Crashes of a consuming loop allowed per `restartWindowMs` before the consumer is declared failed. */
  maxRestarts: number;
  restartWindowMs: number;
}

// A restart cannot fix a wrong setup or lost history.
const permanentReasons: ReadonlySet<ErrorReason> = new Set([
  'config',
  'unauthorized',
  'validation',
  'not_found',
]);

const restartBackoff: BackoffPolicy = { initialDelayMs: 200, maxDelayMs: 5_000, jitter: 'none' };

/**
 * Keeps one backend consumer loop running. A loop that cannot start is tried again, with
 * backoff, until it starts or the consumer is closed: a service that started before its broker
 * recovers on its own. A loop that crashes while consuming is replaced a bounded number of times
 * per window; past that, or on a permanent error, the consumer is failed and says why.
 */
export class SupervisedConsumer {
  state: ConsumerState = { kind: 'starting' };
  /**
   * Resolves once the loop consumes. Rejects when two starts in a row fail as `unavailable` or
   * `readyTimeoutMs` passes first (the consumer keeps trying in both cases), when it fails for
   * good, or when it is closed first.
   */
  readonly ready: Promise<void>;
  readonly #guard: Guard<BrokerOperation>;
  readonly #adapter: BrokerAdapter;
  readonly #options: Omit<ConsumerLoopOptions, 'onCrash'>;
  readonly #limits: RestartLimits;
  readonly #readyTimeoutMs: number;
  readonly #restarts: number[] = [];
  readonly #closing = new AbortController();
  #loop: ConsumerLoop;
  #resolveReady: () => void = () => undefined;
  #rejectReady: (error: unknown) => void = () => undefined;
  #readySettled = false;
  readonly #readyTimer: NodeJS.Timeout;
  /** When the consumer was created or last stopped consuming; undefined while it consumes. */
  #notConsumingSince: number | undefined = Date.now();
  /** Starts that failed since the consumer last consumed: the restart backoff grows with them. */
  #failedStarts = 0;
  /** Starts in a row that failed as `unavailable`. */
  #unreachableStarts = 0;
  #restartPending = false;

  constructor(
    guard: Guard<BrokerOperation>,
    adapter: BrokerAdapter,
    options: Omit<ConsumerLoopOptions, 'onCrash'>,
    limits: RestartLimits,
    readyTimeoutMs: number,
  ) {
    this.#guard = guard;
    this.#adapter = adapter;
    this.#options = options;
    this.#limits = limits;
    this.#readyTimeoutMs = readyTimeoutMs;
    this.ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // A caller that never awaits `ready` must not see an unhandled rejection.
    this.ready.catch(() => undefined);
    this.#readyTimer = setTimeout(() => this.#readyOverdue(), readyTimeoutMs);
    this.#loop = this.#createLoop();
    void this.#start();
  }

  /** Not consuming, and the backend was found unreachable or `readyTimeoutMs` passed: health says down. */
  get down(): boolean {
    const since = this.#notConsumingSince;
    return since !== undefined && (this.#unreachable || Date.now() - since > this.#readyTimeoutMs);
  }

  // Twice in a row, so that a blip (Kafka's metadata before a new topic's leader is known) that
  // the next start, 200 ms later, gets past is not reported; a refused connection fails both at once.
  get #unreachable(): boolean {
    return this.#unreachableStarts >= 2;
  }

  /**
   * Marks the consumer closed and stops its loop. A loop still running after `abandonAfterMs`
   * (a handler that ignores its aborted signal) is left behind, so close() cannot hang forever.
   */
  async close(abandonAfterMs: number): Promise<void> {
    const wasFailed = this.state.kind === 'failed';
    this.state = { kind: 'closed' };
    this.#closing.abort();
    this.#settleReady(this.#guard.error('closed', 'subscribe', 'subscription closed'));
    if (wasFailed) return; // its loop was stopped when it failed
    const abandon = sleep(abandonAfterMs, 'abandoned' as const, { ref: false });
    if ((await Promise.race([this.#loop.stop().then(() => 'stopped' as const), abandon])) === 'abandoned') {
      this.#guard.logger.error(
        { topic: this.#options.topic, group: this.#options.group },
        'subscription abandoned: a handler ignored its abort signal',
      );
    }
  }

  #createLoop(): ConsumerLoop {
    const loop = this.#adapter.consumer({
      ...this.#options,
      // A loop already replaced or stopped has nothing left to report.
      onCrash: (error) => {
        if (loop === this.#loop && this.state.kind === 'running') void this.#restart(error, true);
      },
    });
    return loop;
  }

  #settleReady(error?: InfraError): void {
    if (this.#readySettled) return;
    this.#readySettled = true;
    clearTimeout(this.#readyTimer);
    if (error === undefined) this.#resolveReady();
    else this.#rejectReady(error);
  }

  #readyOverdue(): void {
    const last = this.state.kind === 'restarting' ? `; last error: ${this.state.lastError}` : '';
    this.#settleReady(
      this.#guard.error(
        'unavailable',
        'subscribe',
        `consumer did not start within ${this.#readyTimeoutMs} ms (readyTimeoutMs)${last}; still trying`,
      ),
    );
  }

  async #start(): Promise<void> {
    const loop = this.#loop;
    try {
      await loop.start();
    } catch (error) {
      if (loop === this.#loop && this.state.kind !== 'closed') await this.#restart(error, false);
      // A start that failed after close() began may have left a connection: stop it again.
      else await loop.stop().catch(() => undefined);
      return;
    }
    if (loop !== this.#loop || this.state.kind === 'closed') {
      // close() came while it started: what started must stop too.
      await loop.stop().catch(() => undefined);
      return;
    }
    this.state = { kind: 'running' };
    this.#notConsumingSince = undefined;
    this.#failedStarts = 0;
    this.#unreachableStarts = 0;
    this.#settleReady();
    this.#guard.logger.info(
      { topic: this.#options.topic, group: this.#options.group },
      'subscription consuming',
    );
  }

  /** After a start failed (`crashed` false) or a consuming loop crashed: fail for good, or start a new loop. */
  async #restart(error: unknown, crashed: boolean): Promise<void> {
    if (this.state.kind === 'closed' || this.state.kind === 'failed' || this.#restartPending) return;
    const guard = this.#guard;
    const { topic, group } = this.#options;
    const failure = guard.toInfraError('subscribe', error);
    const now = Date.now();
    // A driver's not_found may be a topic its metadata lists a moment later; an adapter's is for good.
    const permanent =
      permanentReasons.has(failure.reason) && (failure.reason !== 'not_found' || failure === error);
    if (permanent) return this.#fail(failure, 'subscription failed');
    if (crashed) {
      while (this.#restarts.length > 0 && now - this.#restarts[0]! > this.#limits.restartWindowMs)
        this.#restarts.shift();
      if (this.#restarts.length >= this.#limits.maxRestarts) {
        const tooMany = guard.error('unavailable', 'subscribe', `consumer failed: ${failure.message}`, {
          cause: failure,
        });
        return this.#fail(tooMany, 'subscription failed: too many restarts');
      }
      this.#restarts.push(now);
      this.#notConsumingSince = now;
      guard.logger.warn({ err: failure, topic, group }, 'consumer crashed, restarting');
    } else {
      this.#failedStarts++;
      guard.logger.warn(
        { err: failure, topic, group, attempt: this.#failedStarts },
        'subscription could not start',
      );
      this.#unreachableStarts = failure.reason === 'unavailable' ? this.#unreachableStarts + 1 : 0;
      // The caller hears that the backend is unreachable now, not after readyTimeoutMs.
      if (this.#unreachable) this.#settleReady(failure);
    }
    this.state = { kind: 'restarting', since: now, lastError: redactCredentials(failure.message) };
    this.#restartPending = true;
    try {
      await this.#loop.stop().catch(() => undefined);
      const delayMs = backoffDelayMs(restartBackoff, this.#restarts.length + this.#failedStarts - 1);
      await sleep(delayMs, undefined, { signal: this.#closing.signal }).catch(() => undefined);
    } finally {
      this.#restartPending = false;
    }
    if (this.state.kind !== 'restarting') return;
    this.#loop = this.#createLoop();
    await this.#start();
  }

  async #fail(error: InfraError, logMessage: string): Promise<void> {
    this.state = { kind: 'failed', error: redactCredentials(error.message) };
    this.#guard.logger.error(
      { err: error, topic: this.#options.topic, group: this.#options.group },
      logMessage,
    );
    this.#settleReady(error);
    await this.#loop.stop().catch(() => undefined);
  }
}
