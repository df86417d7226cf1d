import { setTimeout as sleep } from 'node:timers/promises';
import type { BrokerAdapter, BrokerOperation, ConsumerLoop, ConsumerLoopOptions } from '../ports/broker.ts';
import { isInfraError, type ErrorReason } from '../ports/errors.ts';
import { redactCredentials } from '../ports/redacted.ts';
import { backoffDelayMs, type BackoffPolicy } from './backoff.ts';
import type { Guard } from './guard.ts';

export type ConsumerState =
  | { kind: 'starting' }
  | { kind: 'running' }
  | { kind: 'restarting'; since: number; lastError: string }
  | { kind: 'failed'; error: string }
  | { kind: 'closed' };

export interface RestartLimits {
  /** Restarts allowed per `restartWindowMs` before the consumer is declared failed. */
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
 * Keeps one backend consumer loop running: a crashed loop is replaced, a bounded number of
 * times per window; past that, or on a permanent error, the consumer is failed and says why.
 */
export class SupervisedConsumer {
  state: ConsumerState = { kind: 'starting' };
  /** Resolves once the loop consumes; rejects when it fails for good or is closed first. */
  readonly ready: Promise<void>;
  readonly #guard: Guard<BrokerOperation>;
  readonly #adapter: BrokerAdapter;
  readonly #options: Omit<ConsumerLoopOptions, 'onCrash'>;
  readonly #limits: RestartLimits;
  readonly #restarts: number[] = [];
  #loop: ConsumerLoop;
  #resolveReady: () => void = () => undefined;
  #rejectReady: (error: unknown) => void = () => undefined;

  constructor(
    guard: Guard<BrokerOperation>,
    adapter: BrokerAdapter,
    options: Omit<ConsumerLoopOptions, 'onCrash'>,
    limits: RestartLimits,
  ) {
    this.#guard = guard;
    this.#adapter = adapter;
    this.#options = options;
    this.#limits = limits;
    this.ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // A caller that never awaits `ready` must not see an unhandled rejection.
    this.ready.catch(() => undefined);
    this.#loop = this.#createLoop();
    void this.#start();
  }

  /**
   * Marks the consumer closed and stops its loop. A loop still running after `abandonAfterMs`
   * (a handler that ignores its aborted signal) is left behind, so close() cannot hang forever.
   */
  async close(abandonAfterMs: number): Promise<void> {
    const wasFailed = this.state.kind === 'failed';
    this.state = { kind: 'closed' };
    this.#rejectReady(this.#guard.error('closed', 'subscribe', 'subscription closed'));
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
    return this.#adapter.consumer({ ...this.#options, onCrash: (error) => void this.#restart(error) });
  }

  async #start(): Promise<void> {
    try {
      await this.#loop.start();
      if (this.state.kind === 'closed') return;
      this.state = { kind: 'running' };
      this.#resolveReady();
      this.#guard.logger.info(
        { topic: this.#options.topic, group: this.#options.group },
        'subscription consuming',
      );
    } catch (error) {
      await this.#restart(error);
    }
  }

  async #restart(error: unknown): Promise<void> {
    if (this.state.kind === 'closed' || this.state.kind === 'failed') return;
    const guard = this.#guard;
    const { topic, group } = this.#options;
    const now = Date.now();
    while (this.#restarts.length > 0 && now - this.#restarts[0]! > this.#limits.restartWindowMs)
      this.#restarts.shift();
    const message = redactCredentials(error instanceof Error ? error.message : String(error));
    if (isInfraError(error) && permanentReasons.has(error.reason)) {
      this.state = { kind: 'failed', error: message };
      guard.logger.error({ err: error, topic, group }, 'subscription failed');
      this.#rejectReady(error);
      await this.#loop.stop().catch(() => undefined);
      return;
    }
    if (this.#restarts.length >= this.#limits.maxRestarts) {
      this.state = { kind: 'failed', error: message };
      guard.logger.error({ err: error, topic, group }, 'subscription failed: too many restarts');
      this.#rejectReady(
        guard.error('unavailable', 'subscribe', `consumer failed: ${message}`, { cause: error }),
      );
      await this.#loop.stop().catch(() => undefined);
      return;
    }
    this.#restarts.push(now);
    this.state = { kind: 'restarting', since: now, lastError: message };
    guard.logger.warn({ err: error, topic, group }, 'consumer crashed, restarting');
    await this.#loop.stop().catch(() => undefined);
    await sleep(backoffDelayMs(restartBackoff, this.#restarts.length - 1));
    if (this.state.kind !== 'restarting') return;
    this.#loop = this.#createLoop();
    await this.#start();
  }
}
