import { networkErrorCodes } from '../shared/network-errors.ts';
import type { ErrorClassification } from '../../ports/errors.ts';
import { classifyHttpStatus, retryAfterMs } from '../shared/http-status.ts';

/** The credential gave no token in time. */
export class TokenTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`no token from the credential within ${timeoutMs} ms`);
    this.name = 'TokenTimeoutError';
  }
}

/**
 * A failure of the SDK or the credential, keeping only what is safe to show. The SDK's own
 * errors carry the request (a secret value on `set`) and the server's text, which may echo it.
 */
export class KeyVaultError extends Error {
  readonly kind: 'http' | 'identity' | 'connection' | 'aborted' | 'other';
  readonly statusCode: number | undefined;
  readonly code: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(
    kind: KeyVaultError['kind'],
    message: string,
    details: { statusCode?: number; code?: string | undefined; retryAfterMs?: number | undefined } = {},
  ) {
    super(message);
    this.name = 'KeyVaultError';
    this.kind = kind;
    this.statusCode = details.statusCode;
    this.code = details.code;
    this.retryAfterMs = details.retryAfterMs;
  }
}

// Errors of @azure/identity: the credential could not authenticate (wrong secret, no identity).
const identityErrors: ReadonlySet<string> = new Set([
  'AuthenticationError',
  'AggregateAuthenticationError',
  'CredentialUnavailableError',
  'AuthenticationRequiredError',
]);

// Node's socket errors and the pipeline's: the vault or the identity endpoint cannot be reached.
const connectionCodes: ReadonlySet<string> = new Set([...networkErrorCodes, 'REQUEST_SEND_ERROR']);

interface RestErrorLike {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  response?: { headers?: { get(name: string): string | undefined } };
}

/** What is safe to keep of an error thrown by `@azure/keyvault-secrets` or `@azure/identity`. */
export function toKeyVaultError(error: unknown): Error {
  if (error instanceof TokenTimeoutError || error instanceof KeyVaultError || error instanceof RangeError)
    return error;
  const e = (error ?? {}) as RestErrorLike;
  const name = typeof e.name === 'string' ? e.name : '';
  // Key Vault's error code (`SecretNotFound`, `Forbidden`, …) says more than the status alone.
  const code = typeof e.code === 'string' && /^[A-Za-z_]+$/.test(e.code) ? e.code : undefined;
  if (identityErrors.has(name)) return new KeyVaultError('identity', `${name}: the credential got no token`);
  if (typeof e.statusCode === 'number') {
    return new KeyVaultError('http', `Key Vault answered HTTP ${e.statusCode}${code ? ` (${code})` : ''}`, {
      statusCode: e.statusCode,
      code,
      retryAfterMs: retryAfterMs(e.response?.headers),
    });
  }
  if (code !== undefined && connectionCodes.has(code))
    return new KeyVaultError('connection', `Key Vault unreachable (${code})`, { code });
  if (name === 'AbortError' || name === 'TimeoutError')
    return new KeyVaultError('aborted', 'request aborted');
  return new KeyVaultError('other', `unexpected ${name || typeof error} from the Key Vault SDK`);
}

/** Maps errors of `@azure/keyvault-secrets` and `@azure/identity` to berth's reasons. */
export function classifyKeyVaultError(error: unknown): ErrorClassification {
  if (error instanceof TokenTimeoutError) return { reason: 'timeout', message: error.message };
  if (error instanceof RangeError) return { reason: 'validation', message: error.message };
  const safe = toKeyVaultError(error);
  if (!(safe instanceof KeyVaultError)) return { reason: 'internal' };
  const message = safe.message;
  switch (safe.kind) {
    case 'http':
      return { ...classifyHttpStatus(safe.statusCode!, safe.retryAfterMs), message };
    case 'identity':
      return { reason: 'unauthorized', retryable: false, message };
    case 'connection':
      return { reason: 'unavailable', message };
    case 'aborted':
      return { reason: 'timeout', message };
    default:
      return { reason: 'internal', message };
  }
}
