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
import { isNetworkErrorCode } from '../shared/network-errors.ts';
import { classifyTlsError } from '../shared/tls.ts';

// Redis error replies start with an upper-case code: `WRONGPASS invalid username-password pair`.
// A code not listed (ERR syntax, wrong number of arguments, NOSCRIPT…) is about the command.
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
  NOREPLICAS: { reason: 'unavailable' },
  // Out of memory under maxmemory, or snapshots failing to reach the disk: retrying at once will not help.
  OOM: { reason: 'unavailable', retryable: false },
  MISCONF: { reason: 'unavailable', retryable: false },
  // Discarded for an error of a queued command, which the reply does not name.
  EXECABORT: { reason: 'internal' },
  // A multi-key command of the adapter's own across cluster slots: berth's bug, logged as an error.
  CROSSSLOT: { reason: 'internal' },
};
const commandError: ErrorClassification = { reason: 'validation', retryable: false };

/** Maps a node-redis error to berth's reasons. */
export function classifyRedisError(error: unknown): ErrorClassification {
  if (error instanceof ErrorReply) {
    const code = error.message.split(' ', 1)[0] ?? '';
    const known = replyCodes[code];
    if (known) return known;
    if (code === 'ERR') {
      if (error.message.startsWith('ERR max number of clients')) return { reason: 'rate_limited' };
      // Answers to the connection's own setup: the options do not fit this server.
      if (/^ERR (AUTH|Client sent AUTH|DB index is out of range)/.test(error.message))
        return { reason: 'config', retryable: false };
      // The server lacks a command the adapter needs: not the caller's request, not an outage either.
      if (/^ERR unknown (sub)?command/.test(error.message)) return { reason: 'internal' };
    }
    return commandError;
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
  const tls = classifyTlsError(error);
  if (tls) return tls;
  const code = (error as { code?: unknown } | null)?.code;
  if (isNetworkErrorCode(code)) return { reason: 'unavailable' };
  return { reason: 'internal' };
}
