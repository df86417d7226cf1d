import type { CacheAdapter, CacheKeyPage, SerializedCacheEntry, Cache } from '../../ports/cache.ts';
import type { HealthResult } from '../../ports/component.ts';
import type { ErrorClassification } from '../../ports/errors.ts';
import { parseOptions } from '../../runtime/options/validate.ts';
import { memoryCacheOptionsSchema, type MemoryCacheOptions } from './options.ts';
import { guardCache } from '../../runtime/cache/guarded-cache.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';

interface StoredValue {
  value: string;
  expiresAt: number;
}

/** The keys that matched when a scan began, and where the next page starts. */
interface ScanCursor {
  readonly keys: readonly string[];
  readonly offset: number;
}

// As Redis's SCAN COUNT: pages the caller can hold.
const scanPageSize = 1_000;

/** An in-process cache with TTLs, bounded by `maxEntries` (least recently used evicted first). */
class MemoryCacheAdapter implements CacheAdapter<ScanCursor> {
  readonly system = 'memory';
  readonly #entries = new Map<string, StoredValue>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  #read(key: string): string | undefined {
    const stored = this.#entries.get(key);
    if (stored === undefined) return undefined;
    if (stored.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    // Re-inserting moves the key to the back of the Map's order: the most recently used.
    this.#entries.delete(key);
    this.#entries.set(key, stored);
    return stored.value;
  }

  // Checks expiry without counting as a use: a scan does not change the eviction order.
  #live(key: string): boolean {
    const stored = this.#entries.get(key);
    if (stored === undefined) return false;
    if (stored.expiresAt > Date.now()) return true;
    this.#entries.delete(key);
    return false;
  }

  #write(key: string, value: string, ttlMs: number | undefined): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: ttlMs === undefined ? Infinity : Date.now() + ttlMs });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
  }

  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.#read(key));
  }

  getMany(keys: readonly string[]): Promise<(string | undefined)[]> {
    return Promise.resolve(keys.map((key) => this.#read(key)));
  }

  set(key: string, value: string, ttlMs: number | undefined): Promise<void> {
    this.#write(key, value, ttlMs);
    return Promise.resolve();
  }

  setMany(entries: readonly SerializedCacheEntry[]): Promise<void> {
    for (const entry of entries) this.#write(entry.key, entry.value, entry.ttlMs);
    return Promise.resolve();
  }

  delete(key: string): Promise<boolean> {
    const existed = this.#read(key) !== undefined;
    this.#entries.delete(key);
    return Promise.resolve(existed);
  }

  has(key: string): Promise<boolean> {
    return Promise.resolve(this.#read(key) !== undefined);
  }

  // The keys are taken once, when the scan begins: a get during the scan moves its key to the end
  // of the Map, and a live Map iterator would then list it twice. Holds at most maxEntries keys.
  scan(prefix: string, cursor: ScanCursor | undefined): Promise<CacheKeyPage<ScanCursor>> {
    const { keys, offset } = cursor ?? {
      keys: [...this.#entries.keys()].filter((key) => key.startsWith(prefix)),
      offset: 0,
    };
    const end = offset + scanPageSize;
    return Promise.resolve({
      keys: keys.slice(offset, end).filter((key) => this.#live(key)),
      cursor: end < keys.length ? { keys, offset: end } : undefined,
    });
  }

  clear(): Promise<undefined> {
    this.#entries.clear();
    return Promise.resolve(undefined);
  }

  probe(): Promise<HealthResult> {
    return Promise.resolve({
      status: 'up',
      details: { entries: this.#entries.size, maxEntries: this.#maxEntries },
    });
  }

  classifyError(): ErrorClassification {
    return { reason: 'internal' };
  }

  close(): Promise<void> {
    this.#entries.clear();
    return Promise.resolve();
  }
}

export function createMemoryCache(
  options: MemoryCacheOptions = {},
  runtime: Runtime = defaultRuntime(),
): Cache {
  const parsed = parseOptions(memoryCacheOptionsSchema, options, 'memory cache options');
  return guardCache(new MemoryCacheAdapter(parsed.maxEntries), parsed, runtime);
}
