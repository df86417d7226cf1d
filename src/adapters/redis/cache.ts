import type { Cache, CacheAdapter, CacheKeyPage, SerializedCacheEntry } from '../../ports/cache.ts';
import type { HealthResult, OperationContext } from '../../ports/component.ts';
import { ConfigError, type ErrorClassification } from '../../ports/errors.ts';
import { parseOptions } from '../../runtime/options/validate.ts';
import { redisCacheOptionsSchema, type RedisCacheOptions } from './options.ts';
import { guardCache } from '../../runtime/cache/guarded-cache.ts';
import { extendPort } from '../../runtime/extend-port.ts';
import { serverOfRedis } from '../../runtime/telemetry/server-info.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';
import { scanClusterPage } from './cluster-scan.ts';
import { RedisConnection, type RedisClient } from './connection.ts';

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
  get(key: string, ctx: OperationContext): Promise<string | null> {
    if (!this.#connection.connecting) return this.#client.get(this.#prefix + key);
    return this.#connection.firstConnection(ctx).then(() => this.#client.get(this.#prefix + key));
  }

  getMany(keys: readonly string[], ctx: OperationContext): Promise<(string | null)[]> {
    const prefixed = keys.map((key) => this.#prefix + key);
    if (!this.#connection.connecting) return this.#client.mGet(prefixed);
    return this.#connection.firstConnection(ctx).then(() => this.#client.mGet(prefixed));
  }

  set(key: string, value: string, ttlMs: number | undefined, ctx: OperationContext): Promise<unknown> {
    const options = ttlMs === undefined ? undefined : { expiration: { type: 'PX', value: ttlMs } as const };
    if (!this.#connection.connecting) return this.#client.set(this.#prefix + key, value, options);
    return this.#connection
      .firstConnection(ctx)
      .then(() => this.#client.set(this.#prefix + key, value, options));
  }

  async setMany(entries: readonly SerializedCacheEntry[], ctx: OperationContext): Promise<unknown> {
    await this.#connection.firstConnection(ctx);
    // A cluster keeps the keys of one call in several slots, where no MULTI can span them.
    if (this.#connection.cluster !== undefined) {
      return Promise.all(
        entries.map((entry) =>
          this.#client.set(
            this.#prefix + entry.key,
            entry.value,
            entry.ttlMs === undefined ? undefined : { expiration: { type: 'PX', value: entry.ttlMs } },
          ),
        ),
      );
    }
    const multi = this.#client.multi();
    for (const entry of entries) {
      const expiration =
        entry.ttlMs === undefined ? undefined : ({ type: 'PX', value: entry.ttlMs } as const);
      multi.set(this.#prefix + entry.key, entry.value, expiration && { expiration });
    }
    return multi.exec();
  }

  async delete(key: string, ctx: OperationContext): Promise<boolean> {
    await this.#connection.firstConnection(ctx);
    return (await this.#client.del(this.#prefix + key)) > 0;
  }

  async has(key: string, ctx: OperationContext): Promise<boolean> {
    await this.#connection.firstConnection(ctx);
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
    const options = { MATCH: `${prefix.replace(globSpecial, '\\$&')}*`, COUNT: scanCount, TYPE: 'string' };
    const cluster = this.#connection.cluster;
    if (cluster !== undefined) return scanClusterPage(cluster, options, cursor);
    const reply = await this.#client.scan(cursor ?? '0', options);
    return { keys: reply.keys, cursor: reply.cursor === '0' ? undefined : reply.cursor };
  }

  probe(signal: AbortSignal): Promise<HealthResult> {
    return this.#connection.probe(signal);
  }

  classifyError = (error: unknown): ErrorClassification => this.#connection.classify(error);

  close(): Promise<void> {
    return this.#connection.close();
  }
}

export interface RedisCache extends Cache {
  /** The node-redis client (its cluster client on a cluster), for commands the port does not cover. */
  client(): RedisClient;
}

export function createRedisCache(
  options: RedisCacheOptions,
  runtime: Runtime = defaultRuntime(),
): RedisCache {
  const parsed = parseOptions(redisCacheOptionsSchema, options, 'redis cache options');
  const logger = runtime.logger.child({ component: parsed.id ?? 'cache:redis' });
  const connection = new RedisConnection(parsed, logger);
  const server = serverOfRedis(parsed);
  const cache = guardCache(
    new RedisCacheAdapter(connection, parsed.keyPrefix),
    { ...parsed, server, credentialRenewal: connection.credentialRenewal },
    runtime,
  );
  return extendPort(cache, { client: () => connection.client });
}
