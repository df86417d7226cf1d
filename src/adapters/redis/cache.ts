import type { Cache, CacheAdapter, SerializedCacheEntry } from '../../ports/cache.ts';
import type { HealthResult } from '../../ports/component.ts';
import { parseOptions } from '../../options/validate.ts';
import { redisCacheOptionsSchema, type RedisCacheOptions } from '../../options/schemas.ts';
import { guardCache } from '../../runtime/guarded-cache.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';
import { RedisConnection, type RedisClient } from './connection.ts';
import { classifyRedisError } from './errors.ts';

class RedisCacheAdapter implements CacheAdapter {
  readonly system = 'redis';
  readonly #connection: RedisConnection;
  readonly #client: RedisClient;
  readonly #prefix: string;

  constructor(connection: RedisConnection, prefix: string) {
    this.#connection = connection;
    this.#client = connection.client;
    this.#prefix = prefix;
  }

  // Once connected, commands go straight to the client: no closure or promise in between.
  get(key: string): Promise<string | null> {
    if (!this.#connection.connecting) return this.#client.get(this.#prefix + key);
    return this.#connection.firstConnection().then(() => this.#client.get(this.#prefix + key));
  }

  getMany(keys: readonly string[]): Promise<(string | null)[]> {
    const prefixed = keys.map((key) => this.#prefix + key);
    if (!this.#connection.connecting) return this.#client.mGet(prefixed);
    return this.#connection.firstConnection().then(() => this.#client.mGet(prefixed));
  }

  set(key: string, value: string, ttlMs: number | undefined): Promise<unknown> {
    const options = ttlMs === undefined ? undefined : { expiration: { type: 'PX', value: ttlMs } as const };
    if (!this.#connection.connecting) return this.#client.set(this.#prefix + key, value, options);
    return this.#connection
      .firstConnection()
      .then(() => this.#client.set(this.#prefix + key, value, options));
  }

  async setMany(entries: readonly SerializedCacheEntry[]): Promise<unknown> {
    await this.#connection.firstConnection();
    const multi = this.#client.multi();
    for (const entry of entries) {
      const expiration =
        entry.ttlMs === undefined ? undefined : ({ type: 'PX', value: entry.ttlMs } as const);
      multi.set(this.#prefix + entry.key, entry.value, expiration && { expiration });
    }
    return multi.exec();
  }

  async delete(key: string): Promise<boolean> {
    await this.#connection.firstConnection();
    return (await this.#client.del(this.#prefix + key)) > 0;
  }

  async has(key: string): Promise<boolean> {
    await this.#connection.firstConnection();
    return (await this.#client.exists(this.#prefix + key)) > 0;
  }

  probe(signal: AbortSignal): Promise<HealthResult> {
    return this.#connection.probe(signal);
  }

  classifyError = classifyRedisError;

  close(): Promise<void> {
    return this.#connection.close();
  }
}

export interface RedisCache extends Cache {
  /** The node-redis client, for commands the port does not cover. */
  client(): RedisClient;
}

export function createRedisCache(
  options: RedisCacheOptions,
  runtime: Runtime = defaultRuntime(),
): RedisCache {
  const parsed = parseOptions(redisCacheOptionsSchema, options, 'redis cache options');
  const id = parsed.id ?? 'cache:redis';
  const connection = new RedisConnection(parsed, runtime.logger.child({ component: id }));
  const cache = guardCache(
    new RedisCacheAdapter(connection, parsed.keyPrefix),
    { id, policies: parsed.policies },
    runtime,
  );
  return { ...cache, client: () => connection.client, [Symbol.asyncDispose]: () => cache.close() };
}
