import type { ErrorClassification, ErrorReason } from '../../ports/errors.ts';
import { classifyTlsError } from '../shared/tls.ts';

// SQL Server error numbers (sys.messages) berth tells apart.
const byNumber: ReadonlyMap<number, { reason: ErrorReason; retryable?: boolean }> = new Map([
  [2627, { reason: 'conflict', retryable: false }], // unique or primary key constraint
  [2601, { reason: 'conflict', retryable: false }], // unique index
  // Chosen as the deadlock victim, or a snapshot update conflict: the transaction may run again.
  [1205, { reason: 'conflict', retryable: true }],
  [3960, { reason: 'conflict', retryable: true }],
  [1222, { reason: 'timeout', retryable: false }], // lock request time out
  [18456, { reason: 'unauthorized', retryable: false }], // login failed
  [229, { reason: 'unauthorized', retryable: false }], // permission denied on an object
  [230, { reason: 'unauthorized', retryable: false }], // permission denied on a column
  [4060, { reason: 'unavailable' }], // cannot open the database
  [40613, { reason: 'unavailable' }], // Azure SQL: database not currently available
  [10928, { reason: 'rate_limited' }], // Azure SQL: resource limit
  [10929, { reason: 'rate_limited' }],
  [40501, { reason: 'rate_limited' }], // Azure SQL: the service is busy
  [102, { reason: 'validation', retryable: false }], // incorrect syntax
  [156, { reason: 'validation', retryable: false }], // incorrect syntax near a keyword
  [207, { reason: 'validation', retryable: false }], // invalid column name
  [208, { reason: 'validation', retryable: false }], // invalid object name
  [245, { reason: 'validation', retryable: false }], // conversion failed
  [515, { reason: 'validation', retryable: false }], // NULL into a NOT NULL column
  [547, { reason: 'validation', retryable: false }], // foreign key or check constraint
  [8114, { reason: 'validation', retryable: false }], // conversion of a parameter
  [8152, { reason: 'validation', retryable: false }], // string or binary data would be truncated
  [2628, { reason: 'validation', retryable: false }], // the same, SQL Server 2019 and later
  [137, { reason: 'validation', retryable: false }], // a variable (parameter) not declared or passed
  [201, { reason: 'validation', retryable: false }], // a procedure's parameter not supplied
  [8178, { reason: 'validation', retryable: false }], // a parameterized query's parameter not supplied
  [8134, { reason: 'validation', retryable: false }], // divide by zero
]);

// Codes of the mssql package and tedious, for failures without a server error number.
const byCode: ReadonlyMap<string, { reason: ErrorReason; retryable?: boolean }> = new Map([
  ['ETIMEOUT', { reason: 'timeout' }],
  ['ECANCEL', { reason: 'timeout', retryable: false }], // berth cancels a statement past its deadline
  ['ELOGIN', { reason: 'unauthorized', retryable: false }],
  ['ESOCKET', { reason: 'unavailable' }],
  ['ECONNCLOSED', { reason: 'unavailable' }],
  ['ECONNREFUSED', { reason: 'unavailable' }],
  ['ENOTOPEN', { reason: 'unavailable' }],
  ['ENOCONN', { reason: 'unavailable' }],
  ['EINSTLOOKUP', { reason: 'unavailable' }],
  ['EPOOLCLOSED', { reason: 'closed', retryable: false }],
  ['EARGS', { reason: 'validation', retryable: false }],
  ['EINJECT', { reason: 'validation', retryable: false }],
  ['EPARAM', { reason: 'validation', retryable: false }], // tedious refused a parameter's value
]);

interface MssqlErrorShape {
  number?: unknown;
  code?: unknown;
  class?: unknown;
  originalError?: { info?: { number?: unknown; class?: unknown }; code?: unknown };
}

/** Maps an error of the `mssql` package (over tedious) to berth's reasons. */
export function classifySqlServerError(error: unknown): ErrorClassification {
  const tls = classifyTlsError(error);
  if (tls) return tls;
  const shape = (error ?? {}) as MssqlErrorShape;
  const number = typeof shape.number === 'number' ? shape.number : shape.originalError?.info?.number;
  if (typeof number === 'number') {
    const known = byNumber.get(number);
    // The server's message names the user: say what happened without it.
    if (number === 18456) return { ...known!, message: 'login failed (18456): check the credentials' };
    if (known) return known;
    const severity = typeof shape.class === 'number' ? shape.class : shape.originalError?.info?.class;
    if (typeof severity !== 'number') return { reason: 'internal', retryable: false };
    // Severity 20 and above ends the connection.
    if (severity >= 20) return { reason: 'unavailable' };
    // 11 to 16 the user can correct (issue #22): the statement's; 17 to 19 are the server's resources or software.
    if (severity >= 11 && severity <= 16) return { reason: 'validation', retryable: false };
    return { reason: 'internal', retryable: false };
  }
  const code = typeof shape.code === 'string' ? shape.code : shape.originalError?.code;
  if (typeof code === 'string') {
    const known = byCode.get(code);
    if (code === 'ELOGIN') return { ...known!, message: 'login failed: check the credentials' };
    // tedious's words for a server and a client that disagree on encryption.
    if (code === 'EENCRYPT') {
      const requires = /Server requires encryption/.test(String((error as Error).message));
      return {
        reason: 'config',
        retryable: false,
        message: requires
          ? 'plaintext to a TLS port: the server requires encryption (encrypt, tls)'
          : 'TLS to a plaintext port: the server does not offer encryption (encrypt: false to allow it)',
      };
    }
    if (known) return known;
  }
  return { reason: 'internal', retryable: false };
}
