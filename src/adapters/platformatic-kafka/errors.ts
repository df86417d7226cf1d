import type { ErrorClassification } from '../../ports/errors.ts';
import { kafkaProtocolErrors } from '../shared/kafka-protocol-errors.ts';
import { isNetworkErrorCode } from '../shared/network-errors.ts';
import { classifyTlsError } from '../shared/tls.ts';

// @platformatic/kafka's own error codes (GenericError.code) that say what went wrong.
const errorCodes: Readonly<Record<string, ErrorClassification>> = {
  PLT_KFK_AUTHENTICATION: { reason: 'unauthorized' },
  PLT_KFK_UNSUPPORTED_API: { reason: 'config' },
  PLT_KFK_UNSUPPORTED_COMPRESSION: { reason: 'config' },
  PLT_KFK_UNSUPPORTED: { reason: 'config' },
};

interface PlatformaticLikeError {
  code?: unknown;
  apiId?: unknown;
  canRetry?: unknown;
  closed?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
  constructor?: { name?: unknown };
}

/** One error's own meaning, without looking at what caused it; undefined when it says nothing. */
function classifyOne(e: PlatformaticLikeError): ErrorClassification | undefined {
  if (typeof e.apiId === 'string' && e.apiId in kafkaProtocolErrors)
    return { ...kafkaProtocolErrors[e.apiId]!, message: `the broker answered ${e.apiId}` };
  if (typeof e.code === 'string' && e.code in errorCodes) return errorCodes[e.code];
  // TimeoutError carries the network code: a request that timed out is `timeout`, a connect is `unavailable`.
  if (e.constructor?.name === 'TimeoutError')
    return {
      reason: typeof e.message === 'string' && e.message.startsWith('Request') ? 'timeout' : 'unavailable',
    };
  if (e.code === 'PLT_KFK_NETWORK') return { reason: e.closed === true ? 'closed' : 'unavailable' };
  if (isNetworkErrorCode(e.code)) return { reason: 'unavailable' };
  return undefined;
}

/**
 * Maps a @platformatic/kafka error to berth's reasons. Its MultipleErrors ("produce failed 3
 * times", a response with errors per partition) are read from the last attempt back, and causes
 * unwrapped, since those name the real problem.
 */
export function classifyPlatformaticKafkaError(error: unknown): ErrorClassification {
  const seen = new Set<unknown>();
  const visit = (current: unknown): ErrorClassification | undefined => {
    if (typeof current !== 'object' || current === null || seen.has(current)) return undefined;
    seen.add(current);
    const e = current as PlatformaticLikeError;
    // A failed handshake under its NetworkError: the user reads what was wrong with TLS.
    const tls = classifyTlsError(current);
    if (tls !== undefined) return tls;
    // The broker's own words for a refused login (no secret in them): "invalid credentials with …".
    const refused = (e.cause as { response?: { errorMessage?: unknown } } | undefined)?.response;
    if (e.code === 'PLT_KFK_AUTHENTICATION' && typeof refused?.errorMessage === 'string')
      return {
        reason: 'unauthorized',
        retryable: false,
        message: `SASL authentication failed: ${refused.errorMessage}`,
      };
    // A connection or login that failed says why in its cause (a refused password, a closed socket).
    if ((e.code === 'PLT_KFK_NETWORK' || e.code === 'PLT_KFK_AUTHENTICATION') && e.cause !== undefined) {
      const why = visit(e.cause);
      if (why !== undefined) return why;
    }
    const own = classifyOne(e);
    if (own !== undefined) return own;
    if (Array.isArray(e.errors))
      for (const inner of [...(e.errors as unknown[])].reverse()) {
        const found = visit(inner);
        if (found !== undefined) return found;
      }
    const fromCause = visit(e.cause);
    if (fromCause !== undefined) return fromCause;
    // An unknown error of the client's that says a retry may help.
    return e.canRetry === true ? { reason: 'unavailable' } : undefined;
  };
  return visit(error) ?? { reason: 'internal' };
}
