import type { CacheAdapter, SerializedCacheEntry, Cache } from '../../ports/cache.ts';
import type { HealthResult } from '../../ports/component.ts';
import type { ErrorClassification } from '../../ports/errors.ts';
import { parseOptions } from '../../options/validate.ts';
import { memoryCacheOptionsSchema, type MemoryCacheOptions } from '../../options/schemas.ts';
import { guardCache } from '../../runtime/guarded-cache.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';

interface StoredValue {
  value: string;
  expiresAt: number;
}

/** An in-process cache with TTLs, bounded by `maxEntries` (least recently used evicted first). */
class MemoryCacheAdapter implements CacheAdapter {
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
  return guardCache(
    new MemoryCacheAdapter(parsed.maxEntries),
    { id: parsed.id, policies: parsed.policies },
    runtime,
  );
}
