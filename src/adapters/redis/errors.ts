import {
  AbortError,
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  DisconnectsClientError,
  ErrorReply,
  MaxCommandRedirectionsError,
  ReconnectStrategyError,
  RootNodesUnavailableError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
} from 'redis';
import type { ErrorClassification, ErrorReason } from '../../ports/errors.ts';

// Redis error replies start with an upper-case code: `WRONGPASS invalid username-password pair`.
const replyCodes: Record<string, { reason: ErrorReason; retryable?: boolean }> = {
  WRONGPASS: { reason: 'unauthorized' },
  NOAUTH: { reason: 'unauthorized' },
  NOPERM: { reason: 'unauthorized' },
  WRONGTYPE: { reason: 'conflict' },
  LOADING: { reason: 'unavailable' },
  BUSY: { reason: 'unavailable' },
  TRYAGAIN: { reason: 'unavailable' },
  CLUSTERDOWN: { reason: 'unavailable' },
  MASTERDOWN: { reason: 'unavailable' },
  READONLY: { reason: 'unavailable' },
  MOVED: { reason: 'unavailable' },
  ASK: { reason: 'unavailable' },
  // Out of memory under maxmemory: retrying at once will not help.
  OOM: { reason: 'unavailable', retryable: false },
  EXECABORT: { reason: 'internal' },
};

const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Maps a node-redis error to berth's reasons. */
export function classifyRedisError(error: unknown): ErrorClassification {
  if (error instanceof ErrorReply) {
    const code = error.message.split(' ', 1)[0] ?? '';
    const known = replyCodes[code];
    return known ?? { reason: 'internal' };
  }
  if (error instanceof ClientClosedError) return { reason: 'closed', retryable: false };
  if (error instanceof ClientOfflineError)
    return { reason: 'unavailable', message: 'not connected to Redis' };
  if (
    error instanceof SocketClosedUnexpectedlyError ||
    error instanceof ConnectionTimeoutError ||
    error instanceof ReconnectStrategyError ||
    error instanceof DisconnectsClientError ||
    // A cluster none of whose given nodes answered, or whose slots kept moving.
    error instanceof RootNodesUnavailableError ||
    error instanceof MaxCommandRedirectionsError
  ) {
    return { reason: 'unavailable' };
  }
  if (error instanceof SocketTimeoutError || error instanceof TimeoutError || error instanceof AbortError) {
    return { reason: 'timeout' };
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && networkCodes.has(code)) return { reason: 'unavailable' };
  return { reason: 'internal' };
}
