import type { Cache, CacheAdapter, CacheKeyPage, SerializedCacheEntry } from '../../ports/cache.ts';
import type { HealthResult } from '../../ports/component.ts';
import { ConfigError } from '../../ports/errors.ts';
import { parseOptions } from '../../options/validate.ts';
import { redisCacheOptionsSchema, type RedisCacheOptions } from '../../options/schemas.ts';
import { guardCache } from '../../runtime/guarded-cache.ts';
import { extendPort } from '../../runtime/extend-port.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';
import { RedisConnection, type RedisClient } from './connection.ts';
import { classifyRedisError } from './errors.ts';

// SCAN's COUNT: keys examined per call, so also the largest UNLINK of clear().
const scanCount = 1_000;
const globSpecial = /[*?[\]\\]/g;

class RedisCacheAdapter implements CacheAdapter<string> {
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

  async scan(prefix: string, cursor: string | undefined): Promise<CacheKeyPage<string>> {
    await this.#connection.firstConnection();
    const page = await this.#scanPage(this.#prefix + prefix, cursor);
    return { keys: page.keys.map((key) => key.slice(this.#prefix.length)), cursor: page.cursor };
  }

  async clear(cursor: string | undefined): Promise<string | undefined> {
    if (this.#prefix === '') {
      throw new ConfigError('redis cache options', [
        { path: 'keyPrefix', message: 'must not be empty for clear(), which would empty the database' },
      ]);
    }
    await this.#connection.firstConnection();
    const page = await this.#scanPage(this.#prefix, cursor);
    if (page.keys.length > 0) await this.#client.unlink(page.keys);
    return page.cursor;
  }

  // Never KEYS, which blocks the server for the whole keyspace. TYPE string: the cache writes only
  // strings, so a stream or hash under the prefix belongs to someone else.
  async #scanPage(prefix: string, cursor: string | undefined): Promise<CacheKeyPage<string>> {
    const reply = await this.#client.scan(cursor ?? '0', {
      MATCH: `${prefix.replace(globSpecial, '\\$&')}*`,
      COUNT: scanCount,
      TYPE: 'string',
    });
    return { keys: reply.keys, cursor: reply.cursor === '0' ? undefined : reply.cursor };
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
  const logger = runtime.logger.child({ component: parsed.id ?? 'cache:redis' });
  const connection = new RedisConnection(parsed, logger);
  const cache = guardCache(new RedisCacheAdapter(connection, parsed.keyPrefix), parsed, runtime);
  return extendPort(cache, { client: () => connection.client });
}
