import { z } from 'zod';
import type { IBreaker } from 'cockatiel';
import { Redacted } from '../ports/redacted.ts';

const positiveInt = z.number().int().positive();

export const policyOverridesSchema = z.strictObject({
  timeoutMs: positiveInt.optional(),
  totalTimeoutMs: positiveInt.optional(),
  healthTimeoutMs: positiveInt.optional(),
  retry: z
    .strictObject({
      maxAttempts: positiveInt.max(20).optional(),
      initialDelayMs: z.number().int().nonnegative().optional(),
      maxDelayMs: z.number().int().nonnegative().optional(),
    })
    .optional(),
  breaker: z
    .strictObject({
      consecutiveFailures: positiveInt.optional(),
      halfOpenAfterMs: positiveInt.optional(),
      createBreaker: z.custom<() => IBreaker>((value) => typeof value === 'function').optional(),
    })
    .optional(),
});

const componentId = z.string().min(1).max(200);

export const memoryCacheOptionsSchema = z.strictObject({
  id: componentId.optional(),
  /** Entries kept before the least recently used is evicted. */
  maxEntries: positiveInt.default(10_000),
  policies: policyOverridesSchema.optional(),
});
export type MemoryCacheOptions = z.input<typeof memoryCacheOptionsSchema>;

/**
 * A URL of one of `protocols` (`redis:`…) with a host. The message never echoes the value: a
 * connection string can carry a password.
 */
export function urlOf(protocols: readonly string[], message: string, accept?: (url: URL) => boolean) {
  return z.string().refine((value) => {
    try {
      const url = new URL(value);
      return protocols.includes(url.protocol) && url.hostname !== '' && (accept?.(url) ?? true);
    } catch {
      return false;
    }
  }, message);
}

const redisUrl = urlOf(['redis:', 'rediss:'], 'must be a redis:// or rediss:// URL with a host');

const redisConnectionShape = {
  id: componentId.optional(),
  /** One Redis server; or `cluster` instead. */
  url: redisUrl.optional(),
  /** A Redis Cluster instead of `url`: the client learns every node and slot from `nodes`. */
  cluster: z
    .strictObject({
      /** `host:port` of some of its nodes (three or more, so a node down does not stop the start). */
      nodes: z
        .array(z.string().regex(/^[^\s:/@]+:\d{1,5}$/, { message: 'must be host:port' }))
        .min(1)
        .max(100),
      /** TLS to every node. */
      tls: z.boolean().default(false),
      /** ACL user on every node; `password` is its password. */
      username: z.string().min(1).max(256).optional(),
    })
    .optional(),
  /** Overrides a password in `url`; a `Redacted` keeps it out of logs. */
  password: z
    .union([z.string(), z.custom<Redacted<string>>((value) => value instanceof Redacted)])
    .describe('a string or a Redacted string')
    .optional(),
  connectTimeoutMs: positiveInt.default(5_000),
  policies: policyOverridesSchema.optional(),
};

/** Exactly one of `url` and `cluster`; the issue sits on `url`, which env names REDIS_URL. */
function oneRedisTarget(
  options: { url?: string | undefined; cluster?: unknown },
  ctx: z.RefinementCtx,
): void {
  if ((options.url === undefined) === (options.cluster === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: ['url'],
      message:
        options.url === undefined
          ? 'is required, unless cluster.nodes (REDIS_CLUSTER_NODES) names a Redis Cluster'
          : 'and cluster.nodes (REDIS_CLUSTER_NODES) exclude each other: set one',
    });
  }
}

export const redisCacheOptionsSchema = z
  .strictObject({
    ...redisConnectionShape,
    /** Prepended to every key, to share one Redis between applications. */
    keyPrefix: z.string().max(256).default(''),
  })
  .superRefine(oneRedisTarget);
export type RedisCacheOptions = z.input<typeof redisCacheOptionsSchema>;

export const redisBrokerOptionsSchema = z
  .strictObject({
    ...redisConnectionShape,
    /** Prepended to every topic to name its stream (on a cluster, `<prefix>{<topic>}`). */
    streamPrefix: z.string().max(256).default('stream:'),
    /** Largest message accepted, in bytes. Default 1 MiB. */
    maxMessageBytes: positiveInt.default(1_048_576),
    /** Trims each stream to about this many entries on publish; absent keeps everything. */
    maxStreamLength: positiveInt.optional(),
    /** Entries another consumer has held unacknowledged this long are taken over. Default 30 s. */
    claimIdleMs: positiveInt.default(30_000),
    /** Pause before a batch that was not acknowledged is delivered again. Default 100 ms. */
    redeliveryDelayMs: positiveInt.default(100),
    /** How long close() lets in-flight handlers finish. Default 10 s. */
    closeTimeoutMs: positiveInt.default(10_000),
  })
  .superRefine(oneRedisTarget);
export type RedisBrokerOptions = z.input<typeof redisBrokerOptionsSchema>;

/** A secret option: a non-empty string, or a `Redacted` one that stays out of logs. */
export const secretValue = z
  .union([z.string().min(1), z.custom<Redacted<string>>((value) => value instanceof Redacted)])
  .describe('a non-empty string or a Redacted string');

export const kafkaBrokerOptionsSchema = z.strictObject({
  id: componentId.optional(),
  /** `host:port` of one or more bootstrap brokers. */
  brokers: z.array(z.string().regex(/^[^\s:/@]+:\d{1,5}$/, { message: 'must be host:port' })).min(1),
  clientId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, { message: 'must be 1 to 100 letters, digits, . _ -' })
    .default('berth'),
  ssl: z.boolean().default(false),
  sasl: z
    .strictObject({
      mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
      username: z.string().min(1),
      password: secretValue,
    })
    .optional(),
  /**
   * Extra wait for other publishes to share a request when none is in flight. Default 0: the
   * publishes of one turn of the event loop go together at once, and whatever arrives while a
   * request is in flight goes in the next.
   */
  lingerMs: z.number().int().nonnegative().max(1_000).default(0),
  /** A batch is sent at once when it holds this many records. */
  maxBatchRecords: positiveInt.default(5_000),
  /** Largest message accepted, in bytes; Kafka's own default is about 1 MB. */
  maxMessageBytes: positiveInt.default(1_000_000),
  /** Topics are created on first use unless `autoCreate` is false. */
  topics: z
    .strictObject({
      autoCreate: z.boolean().default(true),
      partitions: positiveInt.max(10_000).default(3),
      replicationFactor: positiveInt.max(100).default(1),
    })
    .default({ autoCreate: true, partitions: 3, replicationFactor: 1 }),
  connectionTimeoutMs: positiveInt.default(3_000),
  requestTimeoutMs: positiveInt.default(10_000),
  /**
   * How long the broker holds a fetch that finds nothing; closing a subscription waits for the
   * fetch in flight. Default 500 ms (kafkajs's own, 5 s, made every close take up to 5 s).
   */
  fetchMaxWaitMs: positiveInt.max(30_000).default(500),
  /** How long close() lets in-flight handlers finish. Default 10 s. */
  closeTimeoutMs: positiveInt.default(10_000),
  policies: policyOverridesSchema.optional(),
});
export type KafkaBrokerOptions = z.input<typeof kafkaBrokerOptionsSchema>;
