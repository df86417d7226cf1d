import type { HealthResult, OperationOptions } from '../../ports/component.ts';
import {
  cachePort as cachePortDefinition,
  type Cache,
  type CacheAdapter,
  type CacheEntry,
  type CacheOperation,
  type CacheKeysOptions,
  type CacheSetOptions,
} from '../../ports/cache.ts';
import { Guard, type GuardedOptions, type GuardedPort } from '../guard/guard.ts';
import { GuardedComponent } from '../guard/guarded-component.ts';
import { rejecting } from '../guard/rejecting.ts';
import type { Runtime } from '../runtime.ts';
import { dbClientOperationDuration } from '../telemetry/semconv.ts';
import { CacheInput } from './cache-input.ts';
import { GetOrSet } from './get-or-set.ts';

export type GuardedCacheOptions = GuardedOptions;

const ignoreResult = (): undefined => undefined;

const cachePort: GuardedPort<CacheOperation> = {
  port: cachePortDefinition.name,
  idPrefix: cachePortDefinition.idPrefix,
  operations: cachePortDefinition.operations,
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
  return new GuardedCache(Guard.forAdapter(cachePort, adapter, options, runtime), adapter);
}

class GuardedCache<Cursor> extends GuardedComponent<CacheOperation> implements Cache {
  readonly #guard: Guard<CacheOperation>;
  readonly #adapter: CacheAdapter<Cursor>;
  readonly #input: CacheInput;
  readonly #getOrSet: GetOrSet<Cursor>;

  constructor(guard: Guard<CacheOperation>, adapter: CacheAdapter<Cursor>) {
    super(guard);
    this.#guard = guard;
    this.#adapter = adapter;
    this.#input = new CacheInput(guard);
    this.#getOrSet = new GetOrSet(guard, adapter, this.#input, (key, opts) => this.get(key, opts));
  }

  readonly get = <T>(key: string, opts?: OperationOptions): Promise<T | undefined> => {
    try {
      this.#input.key('get', key);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#guard.run(
      'get',
      opts,
      (ctx) => this.#adapter.get(key, ctx),
      (text) => this.#input.decode<T>('get', text),
    );
  };

  readonly set = (key: string, value: unknown, opts?: CacheSetOptions): Promise<void> =>
    rejecting(() => {
      this.#input.key('set', key);
      const ttlMs = this.#input.ttl('set', opts?.ttlMs);
      const text = this.#input.encode('set', value);
      return this.#guard.run('set', opts, (ctx) => this.#adapter.set(key, text, ttlMs, ctx), ignoreResult);
    });

  readonly delete = (key: string, opts?: OperationOptions): Promise<boolean> =>
    rejecting(() => {
      this.#input.key('delete', key);
      return this.#guard.run('delete', opts, (ctx) => this.#adapter.delete(key, ctx));
    });

  readonly has = (key: string, opts?: OperationOptions): Promise<boolean> =>
    rejecting(() => {
      this.#input.key('has', key);
      return this.#guard.run('has', opts, (ctx) => this.#adapter.has(key, ctx));
    });

  readonly getMany = <T>(keys: readonly string[], opts?: OperationOptions): Promise<(T | undefined)[]> =>
    rejecting(() => {
      if (!Array.isArray(keys)) throw this.#guard.invalid('getMany', 'keys', 'must be an array');
      for (const key of keys) this.#input.key('getMany', key);
      if (keys.length === 0) return Promise.resolve([]);
      return this.#guard.run(
        'getMany',
        opts,
        (ctx) => this.#adapter.getMany(keys, ctx),
        (texts) => texts.map((text) => this.#input.decode<T>('getMany', text)),
      );
    });

  readonly setMany = (entries: readonly CacheEntry[], opts?: OperationOptions): Promise<void> =>
    rejecting(() => {
      if (!Array.isArray(entries)) throw this.#guard.invalid('setMany', 'entries', 'must be an array');
      const serialized = entries.map((entry: CacheEntry, index) => {
        if (typeof entry !== 'object' || entry === null) {
          throw this.#guard.invalid(
            'setMany',
            `entries[${index}]`,
            'must be an object { key, value, ttlMs? }',
          );
        }
        return {
          key: this.#input.key('setMany', entry.key),
          value: this.#input.encode('setMany', entry.value, `entries[${index}].value`),
          ttlMs: this.#input.ttl('setMany', entry.ttlMs),
        };
      });
      if (serialized.length === 0) return Promise.resolve();
      return this.#guard.run('setMany', opts, (ctx) => this.#adapter.setMany(serialized, ctx), ignoreResult);
    });

  readonly keys = (opts?: CacheKeysOptions): AsyncIterable<string> => this.#scanKeys(opts);

  readonly clear = async (opts?: OperationOptions): Promise<void> => {
    let cursor: Cursor | undefined;
    do {
      const from = cursor;
      cursor = await this.#guard.run('clear', opts, (ctx) => this.#adapter.clear(from, ctx));
    } while (cursor !== undefined);
  };

  readonly getOrSet = <T>(
    key: string,
    loader: (signal: AbortSignal) => Promise<T>,
    opts?: CacheSetOptions,
  ): Promise<T> =>
    rejecting(() => {
      this.#input.key('getOrSet', key);
      this.#input.ttl('getOrSet', opts?.ttlMs);
      if (typeof loader !== 'function') throw this.#guard.invalid('getOrSet', 'loader', 'must be a function');
      return this.#getOrSet.load(key, loader, opts);
    });

  protected override probe(signal: AbortSignal): Promise<HealthResult> {
    return this.#adapter.probe(signal);
  }

  protected override closeAdapter(): Promise<void> {
    return this.#adapter.close();
  }

  protected override beforeClose(): void {
    this.#getOrSet.cancel();
  }

  // One guarded call per page: a deadline bounds a page, not the whole keyspace.
  async *#scanKeys(opts: CacheKeysOptions | undefined): AsyncGenerator<string, void, undefined> {
    const prefix = this.#input.prefix('keys', opts?.prefix);
    let cursor: Cursor | undefined;
    do {
      const from = cursor;
      const page = await this.#guard.run('keys', opts, (ctx) => this.#adapter.scan(prefix, from, ctx));
      cursor = page.cursor;
      yield* page.keys;
    } while (cursor !== undefined);
  }
}
