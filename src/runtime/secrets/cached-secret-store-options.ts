import { z } from 'zod';
import type { Cache } from '../../ports/cache.ts';
import { Redacted } from '../../ports/redacted.ts';
import { componentId, positiveInt } from '../options/schema-pieces.ts';

const encryptionKey = z
  .union([
    z.instanceof(Buffer),
    z.custom<Redacted<Buffer>>((value) => value instanceof Redacted).describe('a Redacted Buffer'),
  ])
  .refine(
    (value) => (value instanceof Redacted ? value.reveal() : value).length === 32,
    'must be 32 bytes (AES-256)',
  );

export const cachedSecretStoreOptionsSchema = z
  .strictObject({
    id: componentId.optional(),
    /** How long a fetched value is served without asking the store. Default 5 min. */
    ttlMs: positiveInt.default(300_000),
    /** Fraction of the TTL, at the end of it, in which a read triggers a background refresh. Default 0.2. */
    refreshAhead: z.number().min(0).max(1).default(0.2),
    /** Longest time past its TTL that a value is served while the store fails. Default 1 h. */
    maxStaleMs: z.number().int().nonnegative().default(3_600_000),
    /**
     * A shared cache (e.g. Redis) to keep values in for other instances; entries are sealed with
     * AES-256-GCM under `encryptionKey`, never stored in plain text.
     */
    cache: z
      .custom<Cache>(
        (value) =>
          typeof value === 'object' &&
          value !== null &&
          typeof (value as { get?: unknown }).get === 'function' &&
          typeof (value as { set?: unknown }).set === 'function',
        { message: 'must be a Cache' },
      )
      .optional(),
    encryptionKey: encryptionKey.optional(),
    /** Prefix of the shared cache's keys. Default `secret:`. */
    keyPrefix: z.string().default('secret:'),
  })
  .refine((options) => options.cache === undefined || options.encryptionKey !== undefined, {
    message: 'is required with cache: the shared cache holds only ciphertext',
    path: ['encryptionKey'],
  });

export type CachedSecretStoreOptions = z.input<typeof cachedSecretStoreOptionsSchema>;
