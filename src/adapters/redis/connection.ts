import { createClient } from 'redis';
import type { Logger } from 'pino';
import type { HealthResult } from '../../ports/component.ts';
import { Redacted, redactCredentials } from '../../ports/redacted.ts';
import { backoffDelayMs, type BackoffPolicy } from '../../runtime/backoff.ts';
import { classifyRedisError } from './errors.ts';

// Backoff between reconnects, capped so the client comes back within a second of Redis.
const reconnectBackoff: BackoffPolicy = { initialDelayMs: 100, maxDelayMs: 1_000, jitter: 'half' };
const reconnectDelayMs = (retries: number): number => backoffDelayMs(reconnectBackoff, retries);

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
export type RedisClient = ReturnType<typeof createRedisClient>;

export interface RedisConnectionOptions {
  url: string;
  password?: string | Redacted | undefined;
  connectTimeoutMs: number;
}

/**
 * One node-redis client with berth's connection rules, shared by the cache and the broker:
 * only the first connection is awaited, afterwards commands fail fast while offline; a wrong
 * password fails fast; transitions are logged, not every failed reconnect.
 */
export class RedisConnection {
  readonly client: RedisClient;
  #connecting: Promise<void> | undefined;
  #lastError: Error | undefined = undefined;
  #authFailure = rejectable();

  constructor(options: RedisConnectionOptions, logger: Logger) {
    const password = options.password instanceof Redacted ? options.password.reveal() : options.password;
    this.client = createRedisClient(options.url, password, options.connectTimeoutMs);
    const server = redactCredentials(options.url);
    let connected = false;
    this.client.on('ready', () => {
      connected = true;
      this.#lastError = undefined;
      logger.info({ server }, 'connected to Redis');
    });
    this.client.on('error', (error: Error) => {
      this.#lastError = error;
      if (classifyRedisError(error).reason === 'unauthorized') {
        this.#authFailure.reject(error);
        this.#authFailure = rejectable();
      }
      if (!connected) return logger.debug({ err: error }, 'Redis connection error');
      connected = false;
      logger.warn({ err: error }, 'lost connection to Redis, reconnecting');
    });
    this.#connecting = this.client.connect().then(
      () => {
        this.#connecting = undefined;
      },
      () => undefined,
    );
  }

  /** False once the first connection is made: callers then skip `firstConnection()` entirely. */
  get connecting(): boolean {
    return this.#connecting !== undefined;
  }

  // Waiting for a connection that a wrong password keeps failing would only end in a timeout.
  firstConnection(): Promise<void> {
    if (this.#connecting === undefined) return Promise.resolve();
    if (this.#lastError !== undefined && classifyRedisError(this.#lastError).reason === 'unauthorized') {
      return Promise.reject(this.#lastError);
    }
    return Promise.race([this.#connecting, this.#authFailure.promise]);
  }

  // PING on a client whose offline queue is disabled: it answers now or fails now.
  async probe(signal: AbortSignal): Promise<HealthResult> {
    if (this.#connecting) await Promise.race([this.firstConnection(), aborted(signal)]);
    if (!this.client.isReady) {
      const last = this.#lastError === undefined ? '' : ` (${classifyRedisError(this.#lastError).reason})`;
      return { status: 'down', error: `not connected to Redis${last}` };
    }
    const reply = await this.client.withAbortSignal(signal).ping();
    return reply === 'PONG' ? { status: 'up' } : { status: 'down', error: 'PING did not answer PONG' };
  }

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
