import type { ErrorClassification } from '../../ports/errors.ts';
import { classifyHttpStatus, retryAfterMs } from '../../runtime/http-status.ts';

/** The credential gave no token in time. */
export class TokenTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`no token from the credential within ${timeoutMs} ms`);
    this.name = 'TokenTimeoutError';
  }
}

// Errors of @azure/identity: the credential could not authenticate (wrong secret, no identity).
const identityErrors: ReadonlySet<string> = new Set([
  'AuthenticationError',
  'AggregateAuthenticationError',
  'CredentialUnavailableError',
  'AuthenticationRequiredError',
]);

// Node's socket errors: the vault (or the identity endpoint) cannot be reached.
const connectionCodes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'REQUEST_SEND_ERROR',
]);

interface RestErrorLike {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  response?: { headers?: { get(name: string): string | undefined } };
}

/** Maps errors of `@azure/keyvault-secrets` and `@azure/identity` to berth's reasons. */
export function classifyKeyVaultError(error: unknown): ErrorClassification {
  const e = (error ?? {}) as RestErrorLike;
  const name = typeof e.name === 'string' ? e.name : '';
  if (error instanceof TokenTimeoutError) return { reason: 'timeout', message: error.message };
  if (identityErrors.has(name))
    return { reason: 'unauthorized', retryable: false, message: `${name}: could not get a token` };
  if (typeof e.statusCode === 'number') {
    const classified = classifyHttpStatus(e.statusCode, retryAfterMs(e.response?.headers));
    return { ...classified, message: `Key Vault answered HTTP ${e.statusCode}${codeOf(e)}` };
  }
  if (typeof e.code === 'string' && connectionCodes.has(e.code))
    return { reason: 'unavailable', message: `Key Vault unreachable (${e.code})` };
  if (name === 'AbortError' || name === 'TimeoutError') return { reason: 'timeout' };
  if (error instanceof RangeError) return { reason: 'validation', message: error.message };
  return { reason: 'internal' };
}

// Key Vault's error code (`SecretNotFound`, `Forbidden`, …) says more than the status alone.
function codeOf(error: RestErrorLike): string {
  return typeof error.code === 'string' && /^[A-Za-z]+$/.test(error.code) ? ` (${error.code})` : '';
}
