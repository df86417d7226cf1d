import type { OperationOptions } from '../../ports/component.ts';
import type { CacheAdapter, CacheOperation, CacheSetOptions } from '../../ports/cache.ts';
import { isInfraError, type ErrorReason } from '../../ports/errors.ts';
import type { Guard } from '../guard/guard.ts';
import type { CacheInput } from './cache-input.ts';

// getOrSet still serves the loader's value when the cache itself cannot answer.
const cacheDownReasons: ReadonlySet<ErrorReason> = new Set(['unavailable', 'timeout', 'circuit_open']);
const ignoreResult = (): undefined => undefined;

type Read = <T>(key: string, options: OperationOptions | undefined) => Promise<T | undefined>;

/**
 * `getOrSet`, single-flight: callers of one key share one load. The read is bounded by the
 * call's budget (a hung cache times out into the loader); the write-back runs after the caller
 * has its value, and callers that come meanwhile share it.
 */
export class GetOrSet<Cursor> {
  readonly #guard: Guard<CacheOperation>;
  readonly #adapter: CacheAdapter<Cursor>;
  readonly #input: CacheInput;
  readonly #read: Read;
  readonly #loading = new Map<string, Promise<unknown>>();
  // Loaders get this signal: aborted when the cache closes.
  readonly #closing = new AbortController();

  constructor(guard: Guard<CacheOperation>, adapter: CacheAdapter<Cursor>, input: CacheInput, read: Read) {
    this.#guard = guard;
    this.#adapter = adapter;
    this.#input = input;
    this.#read = read;
  }

  load<T>(
    key: string,
    loader: (signal: AbortSignal) => Promise<T>,
    opts: CacheSetOptions | undefined,
  ): Promise<T> {
    const inFlight = this.#loading.get(key);
    if (inFlight) return inFlight as Promise<T>;
    const flight: Promise<T> = this.#loadThrough(key, loader, opts, () => {
      if (this.#loading.get(key) === flight) this.#loading.delete(key);
    });
    this.#loading.set(key, flight);
    return flight;
  }

  /** Aborts the signal the loaders in flight were given. */
  cancel(): void {
    this.#closing.abort();
  }

  async #loadThrough<T>(
    key: string,
    loader: (signal: AbortSignal) => Promise<T>,
    opts: CacheSetOptions | undefined,
    release: () => void,
  ): Promise<T> {
    let storing: Promise<void> | undefined;
    try {
      try {
        const cached = await this.#read<T>(key, opts);
        if (cached !== undefined) return cached;
      } catch (error) {
        if (!isInfraError(error) || !cacheDownReasons.has(error.reason)) throw error;
        this.#guard.logger.warn(
          { err: error, operation: 'getOrSet' },
          'cache unavailable, loading without it',
        );
      }
      const value = await loader(this.#closing.signal);
      storing = this.#store(key, this.#input.encode('getOrSet', value), opts);
      return value;
    } finally {
      if (storing === undefined) release();
      else void storing.finally(release);
    }
  }

  /** The write-back: the caller has its value already, so a failure is only logged. */
  async #store(key: string, text: string, opts: CacheSetOptions | undefined): Promise<void> {
    // Shared work: one caller's signal must not cancel what the next callers need; the budget bounds it.
    const { signal: _signal, ttlMs, ...budget } = opts ?? {};
    try {
      await this.#guard.run('set', budget, (ctx) => this.#adapter.set(key, text, ttlMs, ctx), ignoreResult);
    } catch (error) {
      const level = isInfraError(error) && error.reason !== 'internal' ? 'warn' : 'error';
      this.#guard.logger[level]({ err: error, operation: 'getOrSet' }, 'value loaded but not stored');
    }
  }
}
