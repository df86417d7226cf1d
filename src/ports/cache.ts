import type {
  Component,
  HealthResult,
  OperationContext,
  OperationOptions,
  OperationSpecs,
} from './component.ts';
import type { ErrorClassification } from './errors.ts';

export interface CacheSetOptions extends OperationOptions {
  /** Time to live in milliseconds; absent means no expiry. */
  ttlMs?: number;
}

export interface CacheEntry<T = unknown> {
  key: string;
  value: T;
  ttlMs?: number;
}

/**
 * A key-value cache of JSON values. Values round-trip through JSON on every adapter, so a
 * value read back is a copy and `Date`s come back as strings.
 */
export interface Cache extends Component {
  get<T = unknown>(key: string, options?: OperationOptions): Promise<T | undefined>;
  set(key: string, value: unknown, options?: CacheSetOptions): Promise<void>;
  /** Resolves true when the key existed. */
  delete(key: string, options?: OperationOptions): Promise<boolean>;
  has(key: string, options?: OperationOptions): Promise<boolean>;
  /** Values in the order of `keys`, `undefined` where absent. */
  getMany<T = unknown>(keys: readonly string[], options?: OperationOptions): Promise<(T | undefined)[]>;
  setMany(entries: readonly CacheEntry[], options?: OperationOptions): Promise<void>;
  /**
   * Returns the cached value, or calls `loader` and caches its result. Concurrent calls for
   * one key in one process share a single loader call.
   */
  getOrSet<T>(
    key: string,
    loader: (signal: AbortSignal) => Promise<T>,
    options?: CacheSetOptions,
  ): Promise<T>;
}

export type CacheOperation = 'get' | 'set' | 'delete' | 'has' | 'getMany' | 'setMany';

export const cacheOperations: OperationSpecs<CacheOperation> = {
  get: { idempotent: true },
  set: { idempotent: true },
  delete: { idempotent: true },
  has: { idempotent: true },
  getMany: { idempotent: true },
  setMany: { idempotent: true },
};

/**
 * What a cache backend implements: raw operations on serialized values. berth builds the
 * `Cache` port around it once (validation, JSON, single-flight, guard).
 */
export interface CacheAdapter {
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
  /** A dedicated, bounded check of the backend. */
  probe(signal: AbortSignal): Promise<HealthResult>;
  classifyError(error: unknown): ErrorClassification;
  close(): Promise<void>;
}

export interface SerializedCacheEntry {
  key: string;
  value: string;
  ttlMs: number | undefined;
}
