import type { CacheOperation } from '../../ports/cache.ts';
import type { Guard } from '../guard/guard.ts';
import { toExactJson } from '../json-codec.ts';

const maxKeyLength = 1024;

/** The cache's checks of keys, prefixes and TTLs before any I/O, and its JSON both ways. */
export class CacheInput {
  readonly #guard: Guard<CacheOperation>;

  constructor(guard: Guard<CacheOperation>) {
    this.#guard = guard;
  }

  key(operation: string, key: unknown): string {
    if (typeof key !== 'string' || key.length === 0 || key.length > maxKeyLength) {
      throw this.#guard.invalid(operation, 'key', `must be a string of 1 to ${maxKeyLength} characters`);
    }
    return key;
  }

  prefix(operation: string, prefix: unknown): string {
    if (prefix === undefined) return '';
    if (typeof prefix !== 'string' || prefix.length > maxKeyLength) {
      throw this.#guard.invalid(
        operation,
        'prefix',
        `must be a string of at most ${maxKeyLength} characters`,
      );
    }
    return prefix;
  }

  ttl(operation: string, ttlMs: unknown): number | undefined {
    if (ttlMs === undefined) return undefined;
    if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
      throw this.#guard.invalid(operation, 'ttlMs', 'must be a positive integer number of milliseconds');
    }
    return ttlMs;
  }

  // Refused here, for every adapter alike: what JSON would not give back as it was (a Map, NaN, a Date…).
  encode(operation: string, value: unknown, path = 'value'): string {
    return toExactJson(value, path, (at, message, cause) =>
      this.#guard.invalid(operation, at, message, cause === undefined ? {} : { cause }),
    );
  }

  decode<T>(operation: string, text: string | null | undefined): T | undefined {
    if (text === undefined || text === null) return undefined;
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw this.#guard.error('internal', operation, 'stored value is not valid JSON', { cause });
    }
  }
}
