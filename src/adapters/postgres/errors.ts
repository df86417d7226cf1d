import type { ErrorClassification, ErrorReason } from '../../ports/errors.ts';
import { isNetworkErrorCode } from '../shared/network-errors.ts';
import { classifyTlsError } from '../shared/tls.ts';

// SQLSTATE codes by their own value, then by class (the first two characters).
const byCode: ReadonlyMap<string, { reason: ErrorReason; retryable?: boolean }> = new Map([
  ['23505', { reason: 'conflict', retryable: false }], // unique_violation
  // Serialization failure and deadlock: the transaction did not commit and may run again.
  ['40001', { reason: 'conflict', retryable: true }],
  ['40P01', { reason: 'conflict', retryable: true }],
  ['57014', { reason: 'timeout', retryable: false }], // query_canceled: by a deadline, not worth repeating
  ['55P03', { reason: 'timeout', retryable: false }], // lock_not_available (lock_timeout)
  ['53300', { reason: 'rate_limited' }], // too_many_connections
  ['28P01', { reason: 'unauthorized', retryable: false }],
  ['28000', { reason: 'unauthorized', retryable: false }],
  ['42501', { reason: 'unauthorized', retryable: false }], // insufficient_privilege
  ['3D000', { reason: 'config', retryable: false }], // the database does not exist
  ['25006', { reason: 'unavailable' }], // read_only_sql_transaction: a write reached a standby (a failover)
  ['23P01', { reason: 'conflict', retryable: false }], // exclusion_violation: another row holds the range
]);
// Classes that say the server or the connection is unwell. Any other SQLSTATE the server answers
// is about the statement (syntax, types, values, constraints, limits, a RAISE, 25P02 after a failed
// one in a transaction): the caller's.
const byClass: ReadonlyMap<string, { reason: ErrorReason; retryable?: boolean }> = new Map([
  ['08', { reason: 'unavailable' }], // connection exception
  ['53', { reason: 'unavailable' }], // insufficient resources (disk full, out of memory)
  ['57', { reason: 'unavailable' }], // operator intervention: shutdown, starting up, database dropped
  ['58', { reason: 'internal', retryable: false }], // system error (I/O) outside PostgreSQL
  ['XX', { reason: 'internal', retryable: false }], // internal error, data or index corrupted
  ['40', { reason: 'conflict', retryable: true }], // transaction rollback
]);
const statementError: ErrorClassification = { reason: 'validation', retryable: false };

const connectionLost =
  /Connection terminated|connection is closed|Client has encountered a connection error|Client was closed/i;

/** Maps an error of `pg` or PGlite (both carry PostgreSQL's SQLSTATE in `code`) to berth's reasons. */
export function classifyPostgresError(error: unknown): ErrorClassification {
  const tls = classifyTlsError(error) ?? transportMismatch(error);
  if (tls) return tls;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    // A bind message with too few values (issue #22): answered, and the session goes on; FATAL ends it.
    if (code === '08P01' && !sessionEnded(error)) return statementError;
    const known = byCode.get(code) ?? (code.length === 5 ? byClass.get(code.slice(0, 2)) : undefined);
    if (known) {
      // The server's text names the user on a failed login: say what happened without it.
      if (known.reason === 'unauthorized' && code.startsWith('28')) {
        return { ...known, message: `authentication failed (SQLSTATE ${code}): check the credentials` };
      }
      return known;
    }
    // Errors of the client's own, before or without a server answer.
    if (isNetworkErrorCode(code)) {
      return { reason: code === 'ETIMEDOUT' ? 'timeout' : 'unavailable' };
    }
    if (/^[0-9A-Z]{5}$/.test(code)) return statementError;
  }
  const message = error instanceof Error ? error.message : String(error);
  // pg-pool's wait for a connection, and pg's own connect timeout (`connectionTimeoutMillis`).
  if (/timeout exceeded when trying to connect|^timeout expired$|due to connection timeout/i.test(message))
    return { reason: 'timeout' };
  if (connectionLost.test(message)) return { reason: 'unavailable' };
  return { reason: 'internal', retryable: false };
}

function sessionEnded(error: unknown): boolean {
  const severity = (error as { severity?: unknown }).severity;
  return severity === 'FATAL' || severity === 'PANIC';
}

// The server's own words for a connection in the transport it does not take.
function transportMismatch(error: unknown): ErrorClassification | undefined {
  const message = error instanceof Error ? error.message : '';
  if ((error as { code?: unknown }).code === '28000' && /no pg_hba\.conf entry .*no encryption/.test(message))
    return {
      reason: 'config',
      retryable: false,
      message: 'plaintext to a TLS port: the server takes only TLS connections (hostssl); set tls',
    };
  if (/^The server does not support SSL connections/.test(message))
    return {
      reason: 'config',
      retryable: false,
      message: 'TLS to a plaintext port: the server does not offer TLS',
    };
  return undefined;
}
