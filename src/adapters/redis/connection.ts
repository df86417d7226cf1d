import { setTimeout as sleep } from 'node:timers/promises';
import { ClientClosedError } from 'redis';
import type { Logger } from 'pino';
import type { HealthResult, OperationContext } from '../../ports/component.ts';
import { isAborted } from '../../runtime/guard/abortable-operation.ts';
import type { ErrorClassification } from '../../ports/errors.ts';
import { Redacted, redactCredentials } from '../../ports/redacted.ts';
import {
  createClusterClient,
  createStandaloneClient,
  reconnectDelayMs,
  type RedisClient,
  type RedisClusterClient,
  type RedisClusterSettings,
  type RedisStandaloneClient,
} from './clients.ts';
import { CredentialRenewal } from '../../runtime/guard/credential-renewal.ts';
import { tlsSettingsSchema, type TlsSettings } from '../../runtime/options/schema-pieces.ts';
import { nodeTlsOptions, transportMismatch, warnIfUnverified } from '../shared/tls.ts';
import { classifyRedisError } from './errors.ts';

export type { RedisClient, RedisClusterClient } from './clients.ts';

export interface RedisConnectionOptions {
  /** One server; exactly one of `url` and `cluster` is set (the options schema sees to it). */
  url?: string | undefined;
  cluster?: RedisClusterSettings | undefined;
  password?: string | Redacted | undefined;
  tls?: TlsSettings | undefined;
  connectTimeoutMs: number;
}

/**
 * One node-redis client (or cluster client) with berth's connection rules, shared by the cache and
 * the broker: only the first connection is awaited, and only while no attempt has failed; after a
 * failed attempt (refused, wrong password) or once connected and then lost, commands fail at once
 * (`unavailable`, `unauthorized`) while the client reconnects in the background. A password from a
 * secret store that Redis refuses on a reconnect is read again, and the next attempt made at once
 * with the new one. Transitions are logged, not every failed reconnect.
 */
export class RedisConnection {
  readonly client: RedisClient;
  /** The same client when it is a cluster client, for what only a cluster has (its nodes). */
  readonly cluster: RedisClusterClient | undefined;
  readonly #standalone: RedisStandaloneClient | undefined;
  /** The password's renewal when it is a rotating secret, for guard() too. */
  readonly credentialRenewal: CredentialRenewal | undefined;
  #renewing: Promise<boolean> | undefined = undefined;
  // After a renewal that found the same password, reconnects keep their backoff for this long.
  #renewedNothingUntil = 0;
  readonly #connectTimeoutMs: number;
  readonly #logger: Logger;
  #connecting: Promise<void> | undefined;
  #lastError: Error | undefined = undefined;
  #attemptFailed = rejectable();
  #closed = false;
  readonly #closing = new AbortController();

  constructor(options: RedisConnectionOptions, logger: Logger) {
    const secret = options.password;
    this.credentialRenewal = CredentialRenewal.of([secret], logger);
    this.#connectTimeoutMs = options.connectTimeoutMs;
    this.#logger = logger;
    warnIfUnverified(options.tls, logger);
    const tlsWanted =
      options.cluster !== undefined ? options.cluster.tls : options.url?.startsWith('rediss:') === true;
    const settings = {
      // Read at every connect, after a renewal in flight: a rotated password is sent from then on.
      password:
        secret === undefined
          ? undefined
          : async (): Promise<string> => {
              await this.#renewing;
              return secret instanceof Redacted ? secret.reveal() : secret;
            },
      connectTimeoutMs: options.connectTimeoutMs,
      tls: tlsWanted ? nodeTlsOptions(options.tls ?? tlsSettingsSchema.parse({})) : undefined,
      reconnectStrategy: (retries: number, cause?: unknown): number =>
        this.#renewAfter(cause) ? 0 : reconnectDelayMs(retries),
    };
    if (options.cluster !== undefined) {
      this.cluster = createClusterClient(options.cluster, settings);
      this.client = this.cluster;
      this.#standalone = undefined;
      this.#connecting = this.#connectCluster(this.cluster, options.cluster.nodes.join(','));
    } else {
      const standalone = createStandaloneClient(options.url ?? '', settings);
      this.client = this.#standalone = standalone;
      this.cluster = undefined;
      const server = redactCredentials(options.url ?? '');
      let connected = false;
      standalone.on('ready', () => {
        connected = true;
        this.#lastError = undefined;
        logger.info({ server }, 'connected to Redis');
      });
      const diagnose = transportDiagnosis(options.url ?? '', tlsWanted);
      standalone.on('error', (error: Error) => {
        if (connected || !diagnose.applies(error)) this.#attemptFailure(error);
        else void diagnose.run(error).then((named) => this.#attemptFailure(named));
        if (!connected) return logger.debug({ err: error }, 'Redis connection error');
        connected = false;
        logger.warn({ err: error }, 'lost connection to Redis, reconnecting');
      });
      this.#connecting = standalone.connect().then(
        () => {
          this.#connecting = undefined;
        },
        () => undefined,
      );
    }
  }

  /** False once the first connection is made: callers then skip `firstConnection()` entirely. */
  get connecting(): boolean {
    return this.#connecting !== undefined;
  }

  /**
   * Resolves once connected. Before the first connection it waits only for the attempt in
   * flight: once one has failed, callers get that failure at once, as the offline queue (which
   * is off) would have given it to them after the first connection.
   */
  firstConnection(ctx?: OperationContext): Promise<void> {
    if (this.#connecting === undefined) return Promise.resolve();
    if (this.#lastError !== undefined) return Promise.reject(this.#lastError);
    const connected = Promise.race([this.#connecting, this.#attemptFailed.promise]);
    // A call whose deadline passed while it waited is not sent: a timed-out write must not land later.
    return ctx === undefined ? connected : connected.then(() => throwIfAborted(ctx));
  }

  /** Like `classifyRedisError`, but a node connection closed by the cluster client is an outage, not `closed`. */
  classify = (error: unknown): ErrorClassification => {
    if (error instanceof ClientClosedError && !this.#closed) return { reason: 'unavailable' };
    return classifyRedisError(error);
  };

  // PING with the offline queue disabled: it answers now or fails now (on a cluster, every master).
  async probe(signal: AbortSignal): Promise<HealthResult> {
    if (this.#connecting)
      await Promise.race([this.firstConnection(), aborted(signal)]).catch(() => undefined);
    if (this.#connecting || !this.client.isReady) {
      const last = this.#lastError === undefined ? '' : ` (${this.classify(this.#lastError).reason})`;
      return { status: 'down', error: `not connected to Redis${last}` };
    }
    const reply = this.#standalone
      ? await this.#standalone.withAbortSignal(signal).ping()
      : await this.cluster?.withCommandOptions({ abortSignal: signal, timeout: 0 }).ping();
    return reply === 'PONG' ? { status: 'up' } : { status: 'down', error: 'PING did not answer PONG' };
  }

  /**
   * A connection of its own for blocking reads. Its first failed attempt (refused, wrong
   * password) rejects, and so does an attempt that outlasts the connect timeout: a consumer
   * must not wait for ever to start.
   */
  async openReader(onError: (error: Error) => void): Promise<RedisClient> {
    await this.firstConnection();
    const reader = this.client.duplicate();
    reader.on('error', onError);
    const failed = rejectable();
    // A cluster client reports each root node it could not ask; connect() rejects once all failed.
    const failFast = (error: Error): void => failed.reject(error);
    if (this.cluster === undefined) reader.once('error', failFast);
    try {
      await within(Promise.race([reader.connect(), failed.promise]), this.#connectTimeoutMs, 'Redis');
      return reader;
    } catch (error) {
      reader.destroy();
      throw error;
    } finally {
      reader.off('error', failFast);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#closing.abort();
    const connecting = this.#connecting;
    this.client.destroy();
    if (connecting === undefined) return;
    // A socket that was mid-connect when destroyed still completes; destroy it once settled.
    await connecting;
    this.client.destroy();
  }

  /**
   * Whether a reconnect refused for its password should go again at once: true when the password
   * is a rotating secret being read again (the next attempt waits for it), unless the last read
   * found it unchanged within a second (a wrong password must not become a tight loop).
   */
  #renewAfter(cause: unknown): boolean {
    const credentials = this.credentialRenewal;
    if (credentials === undefined || this.#closed || classifyRedisError(cause).reason !== 'unauthorized')
      return false;
    if (performance.now() < this.#renewedNothingUntil) return false;
    this.#renewing ??= credentials.renew().then((changed) => {
      this.#renewing = undefined;
      if (!changed) this.#renewedNothingUntil = performance.now() + 1_000;
      // A first connection refused before is waited for again: the next attempt may succeed.
      else if (this.#connecting !== undefined) this.#lastError = undefined;
      return changed;
    });
    return true;
  }

  #attemptFailure(error: Error): void {
    this.#lastError = error;
    if (this.#connecting === undefined) return;
    this.#attemptFailed.reject(error);
    this.#attemptFailed = rejectable();
  }

  // A cluster client does not retry its first connect (each root node is asked once), and waits
  // for ever on a master that does not answer: so retry here, each attempt bounded.
  async #connectCluster(cluster: RedisClusterClient, nodes: string): Promise<void> {
    const down = new Set<string>();
    cluster.on('error', (error: Error) =>
      this.#logger.debug({ err: error }, 'Redis Cluster discovery error'),
    );
    cluster.on('node-error', (error: Error, node: { host: string; port: number }) => {
      this.#lastError = error;
      const address = `${node.host}:${node.port}`;
      if (this.#connecting !== undefined || down.has(address)) return;
      down.add(address);
      this.#logger.warn(
        { err: error, node: address },
        'lost connection to a Redis Cluster node, reconnecting',
      );
    });
    cluster.on('node-ready', (node: { host: string; port: number }) => {
      if (down.delete(`${node.host}:${node.port}`))
        this.#logger.info({ node: `${node.host}:${node.port}` }, 'reconnected to a Redis Cluster node');
    });
    for (let attempt = 0; !this.#closed; attempt++) {
      const connecting = cluster.connect();
      try {
        await within(connecting, this.#connectTimeoutMs, 'Redis Cluster');
        this.#connecting = undefined;
        this.#lastError = undefined;
        this.#logger.info({ nodes }, 'connected to Redis Cluster');
        return;
      } catch (error) {
        this.#attemptFailure(error instanceof Error ? error : new Error(String(error)));
        this.#logger.debug({ err: error }, 'Redis Cluster connection error');
        // A timed-out connect is still running: stop it, and let it settle before the next.
        cluster.destroy();
        await connecting.catch(() => undefined);
      }
      await sleep(reconnectDelayMs(attempt), undefined, { signal: this.#closing.signal }).catch(
        () => undefined,
      );
    }
  }
}

// Nothing listens, or the name does not resolve: no other transport would answer either.
const notListening = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const resp = { send: 'PING\r\n', answers: (reply: string) => /^[+-].*\r\n/.test(reply) };

/**
 * A first connection that fails without a reason is asked once whether the port speaks the other
 * transport (plaintext to a TLS port, or the reverse); until that answer, and after, its failures
 * carry the diagnosis so every caller reads the same, named, error.
 */
function transportDiagnosis(url: string, tlsWanted: boolean) {
  let diagnosis: Promise<Error | undefined> | undefined;
  let named: Error | undefined;
  return {
    applies: (error: Error): boolean =>
      named !== undefined ||
      (!notListening.has(String((error as { code?: unknown }).code)) &&
        classifyRedisError(error).reason === 'unavailable'),
    run: async (error: Error): Promise<Error> => {
      if (named) return named;
      const { hostname, port } = new URL(url);
      const target = { host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || 6379) };
      diagnosis ??= transportMismatch(target, tlsWanted, resp, 500, error);
      named = await diagnosis;
      if (named === undefined) diagnosis = undefined;
      return named ?? error;
    },
  };
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

function throwIfAborted(ctx: OperationContext): void {
  if (isAborted(ctx)) throw ctx.signal.reason;
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** A connect that took longer than the connect timeout: the server is not reachable (`unavailable`). */
class ConnectTimeout extends Error {
  override readonly name = 'ConnectTimeout';
  readonly code = 'ETIMEDOUT';
}

/** Rejects with a ConnectTimeout (`unavailable`) when `promise` takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectTimeout(`no connection to ${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
