import type { OperationOptions } from '../../ports/component.ts';
import {
  cacheOperations,
  type Cache,
  type CacheAdapter,
  type CacheEntry,
  type CacheOperation,
  type CacheKeysOptions,
  type CacheSetOptions,
} from '../../ports/cache.ts';
import { isInfraError, type ErrorReason } from '../../ports/errors.ts';
import { Guard, type GuardedOptions, type GuardedPort } from '../guard/guard.ts';
import { rejecting } from '../guard/rejecting.ts';
import { toExactJson } from '../json-codec.ts';
import type { Runtime } from '../runtime.ts';
import { dbClientOperationDuration } from '../telemetry/semconv.ts';

export type GuardedCacheOptions = GuardedOptions;

const maxKeyLength = 1024;
const ignoreResult = (): undefined => undefined;
// getOrSet still serves the loader's value when the cache itself cannot answer.
const cacheDownReasons: ReadonlySet<ErrorReason> = new Set(['unavailable', 'timeout', 'circuit_open']);

const cachePort: GuardedPort<CacheOperation> = {
  port: 'cache',
  idPrefix: 'cache',
  operations: cacheOperations,
  metrics: dbClientOperationDuration,
};

/**
 * Builds the `Cache` port around a backend once for every adapter: input validation before
 * any I/O, JSON encoding, single-flight getOrSet, and `guard()`.
 */
export function guardCache<Cursor>(
  adapter: CacheAdapter<Cursor>,
  options: GuardedCacheOptions,
  runtime: Runtime,
): Cache {
  const guard = Guard.forAdapter(cachePort, adapter, options, runtime);
  const loading = new Map<string, Promise<unknown>>();
  const closing = new AbortController();

  const checkKey = (operation: string, key: unknown): string => {
    if (typeof key !== 'string' || key.length === 0 || key.length > maxKeyLength) {
      throw guard.invalid(operation, 'key', `must be a string of 1 to ${maxKeyLength} characters`);
    }
    return key;
  };
  const checkPrefix = (operation: string, prefix: unknown): string => {
    if (prefix === undefined) return '';
    if (typeof prefix !== 'string' || prefix.length > maxKeyLength) {
      throw guard.invalid(operation, 'prefix', `must be a string of at most ${maxKeyLength} characters`);
    }
    return prefix;
  };
  const checkTtl = (operation: string, ttlMs: unknown): number | undefined => {
    if (ttlMs === undefined) return undefined;
    if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
      throw guard.invalid(operation, 'ttlMs', 'must be a positive integer number of milliseconds');
    }
    return ttlMs;
  };
  // Refused here, for every adapter alike: what JSON would not give back as it was (a Map, NaN, a Date…).
  const encode = (operation: string, value: unknown, path = 'value'): string =>
    toExactJson(value, path, (at, message, cause) =>
      guard.invalid(operation, at, message, cause === undefined ? {} : { cause }),
    );
  const decode = <T>(operation: string, text: string | null | undefined): T | undefined => {
    if (text === undefined || text === null) return undefined;
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw guard.error('internal', operation, 'stored value is not valid JSON', { cause });
    }
  };
  const cache: Cache = {
    ...guard.component(adapter, () => closing.abort()),
    get<T>(key: string, opts?: OperationOptions): Promise<T | undefined> {
      try {
        checkKey('get', key);
      } catch (error) {
        return Promise.reject(error);
      }
      return guard.run(
        'get',
        opts,
        (ctx) => adapter.get(key, ctx),
        (text) => decode<T>('get', text),
      );
    },
    set(key: string, value: unknown, opts?: CacheSetOptions): Promise<void> {
      return rejecting(() => {
        checkKey('set', key);
        const ttlMs = checkTtl('set', opts?.ttlMs);
        const text = encode('set', value);
        return guard.run('set', opts, (ctx) => adapter.set(key, text, ttlMs, ctx), ignoreResult);
      });
    },
    delete(key: string, opts?: OperationOptions): Promise<boolean> {
      return rejecting(() => {
        checkKey('delete', key);
        return guard.run('delete', opts, (ctx) => adapter.delete(key, ctx));
      });
    },
    has(key: string, opts?: OperationOptions): Promise<boolean> {
      return rejecting(() => {
        checkKey('has', key);
        return guard.run('has', opts, (ctx) => adapter.has(key, ctx));
      });
    },
    getMany<T>(keys: readonly string[], opts?: OperationOptions): Promise<(T | undefined)[]> {
      return rejecting(() => {
        if (!Array.isArray(keys)) throw guard.invalid('getMany', 'keys', 'must be an array');
        for (const key of keys) checkKey('getMany', key);
        if (keys.length === 0) return Promise.resolve([]);
        return guard.run(
          'getMany',
          opts,
          (ctx) => adapter.getMany(keys, ctx),
          (texts) => texts.map((text) => decode<T>('getMany', text)),
        );
      });
    },
    setMany(entries: readonly CacheEntry[], opts?: OperationOptions): Promise<void> {
      return rejecting(() => {
        if (!Array.isArray(entries)) throw guard.invalid('setMany', 'entries', 'must be an array');
        const serialized = entries.map((entry: CacheEntry, index) => {
          if (typeof entry !== 'object' || entry === null) {
            throw guard.invalid('setMany', `entries[${index}]`, 'must be an object { key, value, ttlMs? }');
          }
          return {
            key: checkKey('setMany', entry.key),
            value: encode('setMany', entry.value, `entries[${index}].value`),
            ttlMs: checkTtl('setMany', entry.ttlMs),
          };
        });
        if (serialized.length === 0) return Promise.resolve();
        return guard.run('setMany', opts, (ctx) => adapter.setMany(serialized, ctx), ignoreResult);
      });
    },
    keys(opts?: CacheKeysOptions): AsyncIterable<string> {
      return scanKeys(opts);
    },
    async clear(opts?: OperationOptions): Promise<void> {
      let cursor: Cursor | undefined;
      do {
        const from = cursor;
        cursor = await guard.run('clear', opts, (ctx) => adapter.clear(from, ctx));
      } while (cursor !== undefined);
    },
    getOrSet<T>(
      key: string,
      loader: (signal: AbortSignal) => Promise<T>,
      opts?: CacheSetOptions,
    ): Promise<T> {
      return rejecting(() => {
        checkKey('getOrSet', key);
        checkTtl('getOrSet', opts?.ttlMs);
        if (typeof loader !== 'function') throw guard.invalid('getOrSet', 'loader', 'must be a function');
        const inFlight = loading.get(key);
        if (inFlight) return inFlight as Promise<T>;
        const flight: Promise<T> = loadThrough(key, loader, opts, () => {
          if (loading.get(key) === flight) loading.delete(key);
        });
        loading.set(key, flight);
        return flight;
      });
    },
  };

  // One guarded call per page: a deadline bounds a page, not the whole keyspace.
  async function* scanKeys(opts: CacheKeysOptions | undefined): AsyncGenerator<string, void, undefined> {
    const prefix = checkPrefix('keys', opts?.prefix);
    let cursor: Cursor | undefined;
    do {
      const from = cursor;
      const page = await guard.run('keys', opts, (ctx) => adapter.scan(prefix, from, ctx));
      cursor = page.cursor;
      yield* page.keys;
    } while (cursor !== undefined);
  }

  /**
   * The read is bounded by the call's budget (a hung cache times out into the loader); the
   * write-back runs after the caller has its value, and callers that come meanwhile share it.
   */
  async function loadThrough<T>(
    key: string,
    loader: (signal: AbortSignal) => Promise<T>,
    opts: CacheSetOptions | undefined,
    release: () => void,
  ): Promise<T> {
    let storing: Promise<void> | undefined;
    try {
      try {
        const cached = await cache.get<T>(key, opts);
        if (cached !== undefined) return cached;
      } catch (error) {
        if (!isInfraError(error) || !cacheDownReasons.has(error.reason)) throw error;
        guard.logger.warn({ err: error, operation: 'getOrSet' }, 'cache unavailable, loading without it');
      }
      const value = await loader(closing.signal);
      storing = store(key, encode('getOrSet', value), opts);
      return value;
    } finally {
      if (storing === undefined) release();
      else void storing.finally(release);
    }
  }

  /** getOrSet's write-back: the caller has its value already, so a failure is only logged. */
  async function store(key: string, text: string, opts: CacheSetOptions | undefined): Promise<void> {
    // Shared work: one caller's signal must not cancel what the next callers need; the budget bounds it.
    const { signal, ttlMs, ...budget } = opts ?? {};
    try {
      await guard.run('set', budget, (ctx) => adapter.set(key, text, ttlMs, ctx), ignoreResult);
    } catch (error) {
      const level = isInfraError(error) && error.reason !== 'internal' ? 'warn' : 'error';
      guard.logger[level]({ err: error, operation: 'getOrSet' }, 'value loaded but not stored');
    }
  }

  return cache;
}
