import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Cache } from '../../ports/cache.ts';
import type { HealthResult, OperationOptions } from '../../ports/component.ts';
import { isInfraError, type ErrorReason } from '../../ports/errors.ts';
import { Redacted } from '../../ports/redacted.ts';
import type { Secret, SecretMetadata, SecretSetOptions, SecretStore } from '../../ports/secret-store.ts';
import { parseOptions } from '../options/validate.ts';
import {
  cachedSecretStoreOptionsSchema,
  type CachedSecretStoreOptions,
} from './cached-secret-store-options.ts';
import { counterOn } from '../telemetry/metrics.ts';
import { defaultRuntime, type Runtime } from '../runtime.ts';
import { attributes, secretCacheLookups } from '../telemetry/semconv.ts';

export interface CachedSecretStore extends SecretStore {
  /** Forgets `name`, or every name this process has read: the next `get` asks the store. */
  invalidate(name?: string): Promise<void>;
}

interface Entry {
  secret: Secret;
  fetchedAt: number;
  /** When a read starts a background refresh: within the TTL's last stretch, jittered per entry. */
  refreshAt: number;
}

// Answers, not outages: a stale value must not hide that a secret is gone or a name is wrong.
const answers: ReadonlySet<ErrorReason> = new Set(['not_found', 'validation', 'config', 'closed']);

/**
 * A `SecretStore` that serves values from memory for `ttlMs`, refreshes them ahead of expiry in
 * the background, fetches each name once however many callers wait, and serves the last good
 * value for up to `maxStaleMs` while the store fails. Given `cache`, it shares values with other
 * instances through it, sealed with AES-256-GCM: the cache never holds a plain value.
 * Closing it closes `store`, not `cache`.
 */
export function cachedSecretStore(
  store: SecretStore,
  options: CachedSecretStoreOptions = {},
  runtime: Runtime = defaultRuntime(),
): CachedSecretStore {
  const parsed = parseOptions(cachedSecretStoreOptionsSchema, options, 'cached secret store options');
  const id = parsed.id ?? `${store.id}:cached`;
  const logger = runtime.logger.child({ component: id });
  const lookups = counterOn(runtime.registry, secretCacheLookups);
  const countLookup = (result: 'hit' | 'shared_hit' | 'miss' | 'stale'): void =>
    lookups.inc({ [attributes.component]: id, [attributes.result]: result });
  const local = new Map<string, Entry>();
  const loading = new Map<string, Promise<Secret>>();
  // Names whose last fetch failed while a stale value was served: health says degraded.
  const failing = new Set<string>();
  const shared =
    parsed.cache === undefined
      ? undefined
      : new SealedEntries(parsed.cache, keyOf(parsed.encryptionKey!), parsed.keyPrefix);
  const { ttlMs, maxStaleMs, refreshAhead } = parsed;

  const entryOf = (secret: Secret, fetchedAt: number): Entry => ({
    secret,
    fetchedAt,
    refreshAt: fetchedAt + ttlMs * (1 - refreshAhead * (0.5 + Math.random() / 2)),
  });

  async function load(name: string, opts: OperationOptions | undefined): Promise<Secret> {
    const cached = local.get(name);
    const sharedEntry = await shared?.read(name, logger);
    if (
      sharedEntry &&
      Date.now() - sharedEntry.fetchedAt < ttlMs &&
      sharedEntry.fetchedAt > (cached?.fetchedAt ?? 0)
    ) {
      local.set(name, entryOf(sharedEntry.secret, sharedEntry.fetchedAt));
      countLookup('shared_hit');
      return sharedEntry.secret;
    }
    try {
      const secret = await store.get(name, opts);
      const fetchedAt = Date.now();
      local.set(name, entryOf(secret, fetchedAt));
      failing.delete(name);
      countLookup('miss');
      await shared?.write(name, secret, fetchedAt, ttlMs + maxStaleMs, logger);
      return secret;
    } catch (error) {
      if (isInfraError(error) && answers.has(error.reason)) {
        local.delete(name);
        failing.delete(name);
        throw error;
      }
      const last = sharedEntry && sharedEntry.fetchedAt > (cached?.fetchedAt ?? 0) ? sharedEntry : cached;
      if (last === undefined || Date.now() - last.fetchedAt >= ttlMs + maxStaleMs) throw error;
      failing.add(name);
      countLookup('stale');
      logger.warn(
        { err: error, secret: name, ageMs: Date.now() - last.fetchedAt },
        'secret store failed: serving the last good value',
      );
      return last.secret;
    }
  }

  const singleFlight = (name: string, opts: OperationOptions | undefined): Promise<Secret> => {
    const inFlight = loading.get(name);
    if (inFlight) return inFlight;
    const flight = load(name, opts).finally(() => loading.delete(name));
    loading.set(name, flight);
    return flight;
  };

  const forget = async (name: string): Promise<void> => {
    local.delete(name);
    failing.delete(name);
    await shared?.remove(name, logger);
  };

  const cachedStore: CachedSecretStore = {
    id,
    capabilities: store.capabilities,
    get(name: string, opts?: OperationOptions): Promise<Secret> {
      const entry = local.get(name);
      const now = Date.now();
      if (entry === undefined || now - entry.fetchedAt >= ttlMs) return singleFlight(name, opts);
      countLookup('hit');
      if (now >= entry.refreshAt && !loading.has(name)) {
        singleFlight(name, undefined).catch((error: unknown) =>
          logger.warn({ err: error, secret: name }, 'background refresh of a secret failed'),
        );
      }
      return Promise.resolve(entry.secret);
    },
    list: (opts) => store.list(opts),
    async set(
      name: string,
      value: string | Redacted<string>,
      opts?: SecretSetOptions,
    ): Promise<SecretMetadata> {
      const written = await store.set(name, value, opts);
      await forget(name);
      return written;
    },
    async delete(name: string, opts?: OperationOptions): Promise<boolean> {
      const existed = await store.delete(name, opts);
      await forget(name);
      return existed;
    },
    async invalidate(name?: string): Promise<void> {
      if (name !== undefined) return forget(name);
      await Promise.all([...local.keys()].map((known) => forget(known)));
    },
    async health(signal?: AbortSignal): Promise<HealthResult> {
      const inner = await store.health(signal);
      const now = Date.now();
      let servable = 0;
      for (const entry of local.values()) if (now - entry.fetchedAt < ttlMs + maxStaleMs) servable++;
      const details = { ...inner.details, cached: servable, servingStale: failing.size };
      if (inner.status === 'down' && servable > 0) return { ...inner, status: 'degraded', details };
      if (inner.status === 'up' && failing.size > 0) return { ...inner, status: 'degraded', details };
      return { ...inner, details };
    },
    close(): Promise<void> {
      local.clear();
      return store.close();
    },
    [Symbol.asyncDispose](): Promise<void> {
      return cachedStore.close();
    },
  };
  return cachedStore;
}

function keyOf(key: Buffer | Redacted<Buffer>): Buffer {
  return key instanceof Redacted ? key.reveal() : key;
}

interface SealedPayload {
  value: string;
  name: string;
  version?: string | undefined;
  updatedAt?: string | undefined;
  expiresAt?: string | undefined;
  contentType?: string | undefined;
  fetchedAt: number;
}

/**
 * Entries in a shared `Cache`, each sealed with AES-256-GCM under the application's key with
 * its cache key as associated data, so a sealed value cannot be moved to another name.
 * Failures of the cache are logged and read as misses: the store is the source of truth.
 */
class SealedEntries {
  readonly #cache: Cache;
  readonly #key: Buffer;
  readonly #prefix: string;

  constructor(cache: Cache, key: Buffer, prefix: string) {
    this.#cache = cache;
    this.#key = key;
    this.#prefix = prefix;
  }

  async read(
    name: string,
    logger: Runtime['logger'],
  ): Promise<{ secret: Secret; fetchedAt: number } | undefined> {
    const cacheKey = this.#prefix + name;
    let sealed: unknown;
    try {
      sealed = await this.#cache.get(cacheKey);
    } catch (error) {
      logger.warn({ err: error, secret: name }, 'shared secret cache unreadable: asking the store');
      return undefined;
    }
    if (typeof sealed !== 'string') return undefined;
    const payload = this.#open(sealed, cacheKey);
    if (payload === undefined) {
      logger.warn({ secret: name }, 'shared secret cache entry does not open with this key: ignored');
      return undefined;
    }
    const date = (text: string | undefined): Date | undefined =>
      text === undefined ? undefined : new Date(text);
    return {
      fetchedAt: payload.fetchedAt,
      secret: {
        name: payload.name,
        value: new Redacted(payload.value),
        version: payload.version,
        updatedAt: date(payload.updatedAt),
        expiresAt: date(payload.expiresAt),
        contentType: payload.contentType,
      },
    };
  }

  async write(
    name: string,
    secret: Secret,
    fetchedAt: number,
    ttlMs: number,
    logger: Runtime['logger'],
  ): Promise<void> {
    const payload: SealedPayload = {
      value: secret.value.reveal(),
      name: secret.name,
      version: secret.version,
      updatedAt: secret.updatedAt?.toISOString(),
      expiresAt: secret.expiresAt?.toISOString(),
      contentType: secret.contentType,
      fetchedAt,
    };
    const cacheKey = this.#prefix + name;
    try {
      await this.#cache.set(cacheKey, this.#seal(JSON.stringify(payload), cacheKey), { ttlMs });
    } catch (error) {
      logger.warn({ err: error, secret: name }, 'shared secret cache unwritable: value kept in process only');
    }
  }

  async remove(name: string, logger: Runtime['logger']): Promise<void> {
    try {
      await this.#cache.delete(this.#prefix + name);
    } catch (error) {
      logger.warn({ err: error, secret: name }, 'shared secret cache: could not forget a value');
    }
  }

  #seal(plain: string, cacheKey: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(cacheKey));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv, body, cipher.getAuthTag()]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  #open(sealed: string, cacheKey: string): SealedPayload | undefined {
    const [version, iv, body, tag] = sealed.split('.');
    if (version !== 'v1' || iv === undefined || body === undefined || tag === undefined) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(cacheKey));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      const plain = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
      return JSON.parse(plain.toString('utf8')) as SealedPayload;
    } catch {
      return undefined; // another key, or tampered with
    }
  }
}
