import { createClient } from 'redis';
import type { Cache, CacheAdapter, SerializedCacheEntry } from '../../ports/cache.ts';
import type { HealthResult } from '../../ports/component.ts';
import { Redacted, redactCredentials } from '../../ports/redacted.ts';
import { parseOptions } from '../../config/validate.ts';
import { redisCacheOptionsSchema, type RedisCacheOptions } from '../../config/schemas.ts';
import { guardCache } from '../../runtime/guarded-cache.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';
import { classifyRedisError } from './errors.ts';

// Backoff between reconnects, capped so the cache comes back within a second of Redis.
const reconnectDelayMs = (retries: number): number => Math.min(50 * 2 ** retries, 1_000) + Math.random() * 100;

function createRedisClient(url: string, password: string | undefined, connectTimeoutMs: number) {
  return createClient({
    url,
    ...(password === undefined ? {} : { password }),
    disableOfflineQueue: true,
    socket: { connectTimeout: connectTimeoutMs, reconnectStrategy: reconnectDelayMs },
  });
}
type RedisClient = ReturnType<typeof createRedisClient>;

class RedisCacheAdapter implements CacheAdapter {
  readonly system = 'redis';
  readonly client: RedisClient;
  readonly #prefix: string;
  #connecting: Promise<void> | undefined;

  constructor(client: RedisClient, prefix: string) {
    this.client = client;
    this.#prefix = prefix;
    // Only the first connection is waited for; afterwards commands fail fast while offline.
    this.#connecting = client.connect().then(
      () => {
        this.#connecting = undefined;
      },
      () => undefined,
    );
  }

  // Commands go straight to the client once connected; only the first connection is awaited.
  #whenConnected<T>(command: () => Promise<T>): Promise<T> {
    return this.#connecting === undefined ? command() : this.#connecting.then(command);
  }

  get(key: string): Promise<string | null> {
    return this.#whenConnected(() => this.client.get(this.#prefix + key));
  }

  getMany(keys: readonly string[]): Promise<(string | null)[]> {
    return this.#whenConnected(() => this.client.mGet(keys.map((key) => this.#prefix + key)));
  }

  set(key: string, value: string, ttlMs: number | undefined): Promise<void> {
    const options = ttlMs === undefined ? undefined : { expiration: { type: 'PX', value: ttlMs } as const };
    return this.#whenConnected(() => this.client.set(this.#prefix + key, value, options)).then(() => undefined);
  }

  setMany(entries: readonly SerializedCacheEntry[]): Promise<void> {
    return this.#whenConnected(() => {
      const multi = this.client.multi();
      for (const entry of entries) {
        const options = entry.ttlMs === undefined ? undefined : { expiration: { type: 'PX', value: entry.ttlMs } as const };
        multi.set(this.#prefix + entry.key, entry.value, options);
      }
      return multi.exec();
    }).then(() => undefined);
  }

  delete(key: string): Promise<boolean> {
    return this.#whenConnected(() => this.client.del(this.#prefix + key)).then((count) => count > 0);
  }

  has(key: string): Promise<boolean> {
    return this.#whenConnected(() => this.client.exists(this.#prefix + key)).then((count) => count > 0);
  }

  // PING on a client whose offline queue is disabled: it answers now or fails now.
  async probe(signal: AbortSignal): Promise<HealthResult> {
    if (this.#connecting) await Promise.race([this.#connecting, aborted(signal)]);
    if (!this.client.isReady) return { status: 'down', error: 'not connected to Redis' };
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

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

export interface RedisCache extends Cache {
  /** The node-redis client, for commands the port does not cover. */
  client(): RedisClient;
}

export function createRedisCache(options: RedisCacheOptions, runtime: Runtime = defaultRuntime()): RedisCache {
  const parsed = parseOptions(redisCacheOptionsSchema, options, 'redis cache options');
  const id = parsed.id ?? 'cache:redis';
  const logger = runtime.logger.child({ component: id });
  const password = parsed.password instanceof Redacted ? (parsed.password as Redacted<string>).reveal() : parsed.password;
  const client = createRedisClient(parsed.url, password, parsed.connectTimeoutMs);
  // Log transitions, not every failed reconnect: an outage would otherwise flood the log.
  let connected = false;
  client.on('ready', () => {
    connected = true;
    logger.info({ server: redactCredentials(parsed.url) }, 'connected to Redis');
  });
  client.on('error', (error: unknown) => {
    if (!connected) return logger.debug({ err: error }, 'Redis connection error');
    connected = false;
    logger.warn({ err: error }, 'lost connection to Redis, reconnecting');
  });
  const adapter = new RedisCacheAdapter(client, parsed.keyPrefix);
  const cache = guardCache(adapter, { id, policies: parsed.policies }, runtime);
  return { ...cache, client: () => client, [Symbol.asyncDispose]: () => cache.close() };
}
