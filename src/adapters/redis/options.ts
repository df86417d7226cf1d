import { z } from 'zod';
import { Redacted } from '../../ports/redacted.ts';
import {
  componentId,
  hostPort,
  policyOverridesSchema,
  positiveInt,
  tlsSettingsSchema,
  urlOf,
} from '../../runtime/options/schema-pieces.ts';

const redisUrl = urlOf(['redis:', 'rediss:'], 'must be a redis:// or rediss:// URL with a host');

const redisConnectionShape = {
  id: componentId.optional(),
  /** One Redis server; or `cluster` instead. */
  url: redisUrl.optional(),
  /** A Redis Cluster instead of `url`: the client learns every node and slot from `nodes`. */
  cluster: z
    .strictObject({
      /** `host:port` of some of its nodes (three or more, so a node down does not stop the start). */
      nodes: z.array(hostPort).min(1).max(100),
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
  /** CA, client certificate, server name for a rediss:// URL or a cluster with `tls`. */
  tls: tlsSettingsSchema.optional(),
  connectTimeoutMs: positiveInt.default(5_000),
  policies: policyOverridesSchema.optional(),
};

/**
 * Exactly one of `url` and `cluster` (the issue sits on `url`, which env names REDIS_URL), and TLS
 * settings only where the connection is TLS: never a plaintext connection the user meant encrypted.
 */
function oneRedisTarget(
  options: { url?: string | undefined; cluster?: { tls?: boolean } | undefined; tls?: unknown },
  ctx: z.RefinementCtx,
): void {
  if (options.tls !== undefined) {
    const plaintext =
      options.cluster !== undefined
        ? options.cluster.tls !== true
        : options.url?.startsWith('redis:') === true;
    if (plaintext)
      ctx.addIssue({
        code: 'custom',
        path: ['tls'],
        message:
          options.cluster !== undefined
            ? 'is set but the cluster is plaintext: set cluster.tls (REDIS_CLUSTER_TLS=true)'
            : 'is set but the URL is redis:// (plaintext): use rediss://',
      });
  }
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
