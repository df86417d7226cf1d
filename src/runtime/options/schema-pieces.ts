// Pieces of option schemas that several backends share, written once. The message of a piece never
// echoes the value it checks: a connection string or a secret can be one.
import type { IBreaker } from 'cockatiel';
import { z } from 'zod';
import { Redacted } from '../../ports/redacted.ts';

export const positiveInt = z.number().int().positive();
export const nonNegativeInt = z.number().int().nonnegative();

/** A component's id, e.g. `cache:sessions`. */
export const componentId = z.string().min(1).max(200);

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
  rateLimit: z
    .strictObject({
      requestsPerMinute: positiveInt.optional(),
      tokensPerMinute: positiveInt.optional(),
      maxQueued: z.number().int().nonnegative().optional(),
    })
    .optional(),
});

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

/** A secret option: a non-empty string, or a `Redacted` one that stays out of logs. */
export const secretValue = z
  .union([z.string().min(1), z.custom<Redacted<string>>((value) => value instanceof Redacted)])
  .describe('a non-empty string or a Redacted string');

/** `host:port`, as brokers and cluster nodes are named. */
export const hostPort = z.string().regex(/^[^\s:/@]+:\d{1,5}$/, { message: 'must be host:port' });

/** PEM text or bytes of extra CA certificates. */
export const tlsCa = z.union([z.string().min(1), z.instanceof(Buffer)]);

/** What `@azure/identity`'s credentials offer (`DefaultAzureCredential`, …). */
export interface TokenCredentialLike {
  getToken(
    scopes: string | string[],
    options?: object,
  ): Promise<{ token: string; expiresOnTimestamp: number } | null>;
}

/** A Microsoft Entra ID credential: any object with `getToken`. */
export const tokenCredentialSchema = z.custom<TokenCredentialLike>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { getToken?: unknown }).getToken === 'function',
  { message: 'must be a TokenCredential (an object with getToken)' },
);

/**
 * TLS beyond the system's defaults, one shape on every backend: extra CAs, a client certificate
 * for mutual TLS, the name to verify, and (loudly named, warned about at start) no verification.
 */
export const tlsSettingsSchema = z
  .strictObject({
    /** PEM of the CAs to trust besides the system's (`<PREFIX>_TLS_CA_FILE`). */
    ca: tlsCa.optional(),
    /** Client certificate (PEM) for mutual TLS; with `key`. */
    cert: tlsCa.optional(),
    /** The client certificate's private key (PEM); a `Redacted` keeps it out of logs. */
    key: z.union([tlsCa, z.custom<Redacted<string>>((value) => value instanceof Redacted)]).optional(),
    /** The name the server's certificate must carry, when it is not the host connected to. */
    serverName: z.string().min(1).max(253).optional(),
    /** Accepts any certificate: for a test bench only; logs a warning at start. */
    insecureSkipVerify: z.boolean().default(false),
  })
  .refine((tls) => (tls.cert === undefined) === (tls.key === undefined), {
    message: 'cert and key go together: set both for mutual TLS, or neither',
    path: ['cert'],
  });

export type TlsSettings = z.output<typeof tlsSettingsSchema>;
