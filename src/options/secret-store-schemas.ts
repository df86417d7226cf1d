import { z } from 'zod';
import type { Cache } from '../ports/cache.ts';
import { Redacted } from '../ports/redacted.ts';
import { policyOverridesSchema, secretValue, urlOf } from './schemas.ts';
import { tokenCredentialSchema } from './llm-schemas.ts';

const positiveInt = z.number().int().positive();
const componentId = z.string().min(1).max(200);

export const memorySecretStoreOptionsSchema = z.strictObject({
  id: componentId.optional(),
  /** Secrets present from the start, by name. */
  secrets: z.record(z.string(), z.string()).default({}),
  policies: policyOverridesSchema.optional(),
});
export type MemorySecretStoreOptions = z.input<typeof memorySecretStoreOptionsSchema>;

export const envSecretStoreOptionsSchema = z.strictObject({
  id: componentId.optional(),
  /**
   * Variable prefix: with `APP_SECRET_`, the secret `redis-password` is `APP_SECRET_REDIS_PASSWORD`.
   * Names are looked up upper-cased with `-` and `.` as `_`, and listed lower-cased with `_` as `-`.
   */
  prefix: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a variable name prefix such as APP_SECRET_')
    .default('SECRET_'),
  /** Default `process.env`, read at every call. */
  env: z.record(z.string(), z.string().optional()).optional(),
  policies: policyOverridesSchema.optional(),
});
export type EnvSecretStoreOptions = z.input<typeof envSecretStoreOptionsSchema>;

export const fileSecretStoreOptionsSchema = z.strictObject({
  id: componentId.optional(),
  /** A folder with one file per secret, as Kubernetes mounts a Secret; read at every call. */
  directory: z.string().min(1),
  /** Drops one trailing newline, as editors and `echo` add one. Default true. */
  trimTrailingNewline: z.boolean().default(true),
  policies: policyOverridesSchema.optional(),
});
export type FileSecretStoreOptions = z.input<typeof fileSecretStoreOptionsSchema>;

const tlsCa = z.union([z.string().min(1), z.instanceof(Buffer)]);

export const azureKeyVaultSecretStoreOptionsSchema = z
  .strictObject({
    id: componentId.optional(),
    /** e.g. `https://my-vault.vault.azure.net`. */
    vaultUrl: urlOf(
      ['https:'],
      'must be an https:// URL without credentials',
      (url) => url.username === '' && url.password === '',
    ),
    /** A Microsoft Entra ID credential from `@azure/identity`; default `DefaultAzureCredential`. */
    credential: tokenCredentialSchema.optional(),
    /**
     * An app registration's secret, made into a `ClientSecretCredential` that trusts `ca` too: a
     * credential from plain values, as the environment gives them. Not with `credential`.
     */
    clientSecretCredential: z
      .strictObject({
        tenantId: z.string().min(1),
        clientId: z.string().min(1),
        clientSecret: secretValue,
        /** The identity endpoint, e.g. a sovereign cloud's or an emulator's. */
        authorityHost: z.url({ protocol: /^https$/ }).optional(),
      })
      .optional(),
    /** Longest wait for a token from the credential. Default 10 s. */
    tokenTimeoutMs: positiveInt.default(10_000),
    /** Purges a secret after deleting it, so its name can be set again at once. Default false. */
    purgeOnDelete: z.boolean().default(false),
    /** Extra CA certificates (PEM) to trust for this vault only, e.g. a private endpoint's or an emulator's. */
    ca: tlsCa.optional(),
    /** Skips checking that the token challenge's resource matches the vault's domain (emulators). */
    disableChallengeResourceVerification: z.boolean().default(false),
    /** The Key Vault REST API version; default the SDK's. */
    serviceVersion: z.string().min(1).optional(),
    policies: policyOverridesSchema.optional(),
  })
  .refine((options) => options.credential === undefined || options.clientSecretCredential === undefined, {
    message: 'give credential or clientSecretCredential, not both',
    path: ['clientSecretCredential'],
  });
export type AzureKeyVaultSecretStoreOptions = z.input<typeof azureKeyVaultSecretStoreOptionsSchema>;

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
