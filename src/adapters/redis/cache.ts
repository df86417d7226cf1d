import { createClient } from 'redis';
import type { Logger } from 'pino';
import type { Cache, CacheAdapter, SerializedCacheEntry } from '../../ports/cache.ts';
import type { HealthResult } from '../../ports/component.ts';
import { Redacted, redactCredentials } from '../../ports/redacted.ts';
import { parseOptions } from '../../config/validate.ts';
import { redisCacheOptionsSchema, type RedisCacheOptions } from '../../config/schemas.ts';
import { guardCache } from '../../runtime/guarded-cache.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';
import { classifyRedisError } from './errors.ts';

// Backoff between reconnects, capped so the cache comes back within a second of Redis.
const reconnectDelayMs = (retries: number): number =>
  Math.min(50 * 2 ** retries, 1_000) + Math.random() * 100;

function createRedisClient(url: string, password: string | undefined, connectTimeoutMs: number) {
  const target = new URL(url);
  // node-redis lets a password in the URL win; the explicit option is meant to override it.
  if (password !== undefined) target.password = '';
  return createClient({
    url: target.toString(),
    ...(password === undefined ? {} : { password }),
    disableOfflineQueue: true,
    // guard() owns deadlines; node-redis's own per-command timer would cost a timer per call.
    commandOptions: { timeout: 0 },
    socket: { connectTimeout: connectTimeoutMs, reconnectStrategy: reconnectDelayMs },
  });
}
type RedisClient = ReturnType<typeof createRedisClient>;

class RedisCacheAdapter implements CacheAdapter {
  readonly system = 'redis';
  readonly client: RedisClient;
  readonly #prefix: string;
  #connecting: Promise<void> | undefined;
  #lastError: Error | undefined = undefined;
  #authFailure = rejectable();

  constructor(client: RedisClient, prefix: string, logger: Logger, server: string) {
    this.client = client;
    this.#prefix = prefix;
    // Log transitions, not every failed reconnect: an outage would otherwise flood the log.
    let connected = false;
    client.on('ready', () => {
      connected = true;
      this.#lastError = undefined;
      logger.info({ server }, 'connected to Redis');
    });
    client.on('error', (error: Error) => {
      this.#lastError = error;
      if (classifyRedisError(error).reason === 'unauthorized') {
        this.#authFailure.reject(error);
        this.#authFailure = rejectable();
      }
      if (!connected) return logger.debug({ err: error }, 'Redis connection error');
      connected = false;
      logger.warn({ err: error }, 'lost connection to Redis, reconnecting');
    });
    // Only the first connection is waited for; afterwards commands fail fast while offline.
    this.#connecting = client.connect().then(
      () => {
        this.#connecting = undefined;
      },
      () => undefined,
    );
  }

  // Waiting for a connection that a wrong password keeps failing would only end in a timeout.
  #firstConnection(): Promise<void> {
    if (this.#connecting === undefined) return Promise.resolve();
    if (this.#lastError !== undefined && classifyRedisError(this.#lastError).reason === 'unauthorized') {
      return Promise.reject(this.#lastError);
    }
    return Promise.race([this.#connecting, this.#authFailure.promise]);
  }

  // Once connected, commands go straight to the client: no closure or promise in between.
  get(key: string): Promise<string | null> {
    if (this.#connecting === undefined) return this.client.get(this.#prefix + key);
    return this.#firstConnection().then(() => this.client.get(this.#prefix + key));
  }

  getMany(keys: readonly string[]): Promise<(string | null)[]> {
    const prefixed = keys.map((key) => this.#prefix + key);
    if (this.#connecting === undefined) return this.client.mGet(prefixed);
    return this.#firstConnection().then(() => this.client.mGet(prefixed));
  }

  set(key: string, value: string, ttlMs: number | undefined): Promise<unknown> {
    const options = ttlMs === undefined ? undefined : { expiration: { type: 'PX', value: ttlMs } as const };
    if (this.#connecting === undefined) return this.client.set(this.#prefix + key, value, options);
    return this.#firstConnection().then(() => this.client.set(this.#prefix + key, value, options));
  }

  setMany(entries: readonly SerializedCacheEntry[]): Promise<unknown> {
    const exec = (): Promise<unknown> => {
      const multi = this.client.multi();
      for (const entry of entries) {
        const expiration =
          entry.ttlMs === undefined ? undefined : ({ type: 'PX', value: entry.ttlMs } as const);
        multi.set(this.#prefix + entry.key, entry.value, expiration && { expiration });
      }
      return multi.exec();
    };
    return this.#connecting === undefined ? exec() : this.#firstConnection().then(exec);
  }

  async delete(key: string): Promise<boolean> {
    await this.#firstConnection();
    return (await this.client.del(this.#prefix + key)) > 0;
  }

  async has(key: string): Promise<boolean> {
    await this.#firstConnection();
    return (await this.client.exists(this.#prefix + key)) > 0;
  }

  // PING on a client whose offline queue is disabled: it answers now or fails now.
  async probe(signal: AbortSignal): Promise<HealthResult> {
    if (this.#connecting) await Promise.race([this.#firstConnection(), aborted(signal)]);
    if (!this.client.isReady) {
      const last = this.#lastError === undefined ? '' : ` (${classifyRedisError(this.#lastError).reason})`;
      return { status: 'down', error: `not connected to Redis${last}` };
    }
    const reply = await this.client.withAbortSignal(signal).ping();
    return reply === 'PONG' ? { status: 'up' } : { status: 'down', error: 'PING did not answer PONG' };
  }

  classifyError = classifyRedisError;

  async close(): Promise<void> {
    const connecting = this.#connecting;
    this.client.destroy();
    if (connecting === undefined) return;
    // A socket that was mid-connect when destroyed still completes; destroy it once settled.
    await connecting;
    this.client.destroy();
  }
}

/** A promise that only ever rejects, with a handler attached so an unused one is not an unhandled rejection. */
function rejectable(): { promise: Promise<never>; reject: (error: unknown) => void } {
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<never>((_, rejectPromise) => {
    reject = rejectPromise;
  });
  promise.catch(() => undefined);
  return { promise, reject };
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
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
  const password =
    parsed.password instanceof Redacted ? (parsed.password as Redacted<string>).reveal() : parsed.password;
  const client = createRedisClient(parsed.url, password, parsed.connectTimeoutMs);
  const logger = runtime.logger.child({ component: id });
  const adapter = new RedisCacheAdapter(client, parsed.keyPrefix, logger, redactCredentials(parsed.url));
  const cache = guardCache(adapter, { id, policies: parsed.policies }, runtime);
  return { ...cache, client: () => client, [Symbol.asyncDispose]: () => cache.close() };
}
