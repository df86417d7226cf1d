import type {
  Component,
  HealthResult,
  OperationContext,
  OperationOptions,
  OperationSpecs,
  PortDefinition,
} from './component.ts';
import type { ErrorClassification } from './errors.ts';

export interface CacheSetOptions extends OperationOptions {
  /** Time to live in milliseconds; absent means no expiry. */
  ttlMs?: number;
}

export interface CacheKeysOptions extends OperationOptions {
  /** Only keys that start with this (matched literally); default every key. */
  prefix?: string;
}

export interface CacheEntry<T = unknown> {
  key: string;
  value: T;
  ttlMs?: number;
}

/**
 * A key-value cache of JSON values. Values round-trip through JSON on every adapter, so a value
 * read back is a copy (an object referenced twice comes back as two equal objects, `-0` as `0`).
 *
 * Only what JSON gives back as it was is stored: plain objects (or with a null prototype),
 * arrays, strings, finite numbers, booleans and null. Anything else is refused with
 * `InfraError('validation')` naming where it sits (`value.a[2]: a Map cannot be stored …`),
 * before any I/O, by `set`, `setMany` and the value a `getOrSet` loader returns: a Map or a Set
 * (JSON writes `{}`), NaN and ±Infinity (`null`), `undefined` in an object or an array (dropped
 * or `null`), functions, symbols, BigInt, cycles, class instances and objects with a `toJSON`
 * method, and `Date`s, which JSON would give back as strings: store `date.toISOString()` or
 * `date.getTime()`. Symbol keys and non-enumerable properties are not looked at; JSON leaves
 * them out. The check is one walk over the value, after `JSON.stringify`, in the port's guard:
 * every adapter refuses alike.
 */
export interface Cache extends Component {
  get<T = unknown>(key: string, options?: OperationOptions): Promise<T | undefined>;
  /** Refuses (`validation`) a value JSON would not give back as it was: see above. */
  set(key: string, value: unknown, options?: CacheSetOptions): Promise<void>;
  /** Resolves true when the key existed. */
  delete(key: string, options?: OperationOptions): Promise<boolean>;
  has(key: string, options?: OperationOptions): Promise<boolean>;
  /** Values in the order of `keys`, `undefined` where absent. */
  getMany<T = unknown>(keys: readonly string[], options?: OperationOptions): Promise<(T | undefined)[]>;
  /** Writes nothing when one entry is refused; the error names it (`entries[3].value.tags`). */
  setMany(entries: readonly CacheEntry[], options?: OperationOptions): Promise<void>;
  /**
   * The keys of live entries, fetched page by page (`timeoutMs` applies to each page), so
   * memory stays bounded. A key present throughout the scan is listed; on Redis, one whose
   * table is resized during the scan may be listed twice (SCAN's guarantee).
   */
  keys(options?: CacheKeysOptions): AsyncIterable<string>;
  /** Removes every entry of this cache (on Redis, the keys under its `keyPrefix`), page by page. */
  clear(options?: OperationOptions): Promise<void>;
  /**
   * Returns the cached value, or calls `loader` and caches its result. Concurrent calls for
   * one key in one process share a single loader call. A result the cache would refuse (a Map, a
   * Date…) is not stored: the callers get the `validation` error instead of the value.
   */
  getOrSet<T>(
    key: string,
    loader: (signal: AbortSignal) => Promise<T>,
    options?: CacheSetOptions,
  ): Promise<T>;
}

export type CacheOperation = 'get' | 'set' | 'delete' | 'has' | 'getMany' | 'setMany' | 'keys' | 'clear';

export const cacheOperations: OperationSpecs<CacheOperation> = {
  get: { idempotent: true },
  set: { idempotent: true },
  delete: { idempotent: true },
  has: { idempotent: true },
  getMany: { idempotent: true },
  setMany: { idempotent: true },
  keys: { idempotent: true },
  // A page retried from its cursor removes what is left: clearing twice leaves what clearing once does.
  clear: { idempotent: true },
};

export const cachePort: PortDefinition<CacheOperation> = {
  key: 'cache',
  name: 'cache',
  idPrefix: 'cache',
  envPrefix: 'CACHE',
  critical: true,
  inMemoryDriver: 'memory',
  operations: cacheOperations,
};

/**
 * What a cache backend implements: raw operations on serialized values. berth builds the
 * `Cache` port around it once (validation, JSON, single-flight, guard). `Cursor` is the
 * adapter's own position in a scan, opaque to berth.
 */
export interface CacheAdapter<Cursor = unknown> {
  /** The backend, as OpenTelemetry's `db.system.name`, e.g. `redis`. */
  readonly system: string;
  /** Resolves null or undefined when the key is absent. */
  get(key: string, ctx: OperationContext): Promise<string | null | undefined>;
  getMany(keys: readonly string[], ctx: OperationContext): Promise<(string | null | undefined)[]>;
  /** The resolved value is ignored. */
  set(key: string, value: string, ttlMs: number | undefined, ctx: OperationContext): Promise<unknown>;
  /** The resolved value is ignored. */
  setMany(entries: readonly SerializedCacheEntry[], ctx: OperationContext): Promise<unknown>;
  delete(key: string, ctx: OperationContext): Promise<boolean>;
  has(key: string, ctx: OperationContext): Promise<boolean>;
  /**
   * One page of the live keys that start with `prefix`, without the adapter's own key prefix.
   * `cursor` is undefined for the first page; the page's is undefined after the last. Reading a
   * page again from the same cursor must be safe.
   */
  scan(prefix: string, cursor: Cursor | undefined, ctx: OperationContext): Promise<CacheKeyPage<Cursor>>;
  /**
   * Removes one batch of this adapter's entries (only its own key prefix) and resolves the cursor
   * to continue from, undefined when none are left.
   */
  clear(cursor: Cursor | undefined, ctx: OperationContext): Promise<Cursor | undefined>;
  /** A dedicated, bounded check of the backend. */
  probe(signal: AbortSignal): Promise<HealthResult>;
  classifyError(error: unknown): ErrorClassification;
  close(): Promise<void>;
}

export interface CacheKeyPage<Cursor = unknown> {
  keys: string[];
  cursor: Cursor | undefined;
}

export interface SerializedCacheEntry {
  key: string;
  value: string;
  ttlMs: number | undefined;
}
