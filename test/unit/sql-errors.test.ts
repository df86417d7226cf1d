import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import mssql from 'mssql';
import { DatabaseError } from 'pg';
import { classifySqlServerError } from '../../src/adapters/mssql/errors.ts';
import { classifyPostgresError } from '../../src/adapters/postgres/errors.ts';
import type { ErrorClassification, ErrorReason } from '../../src/ports/index.ts';

/** An error as pg (and PGlite) raise it from a server ErrorResponse: SQLSTATE in `code`. */
function pgError(code: string, message = 'server error', severity = 'ERROR'): DatabaseError {
  const error = new DatabaseError(message, 0, 'error');
  error.code = code;
  error.severity = severity;
  return error;
}

/** An error as mssql raises it from a server ERROR token: the number in `number`. */
function serverError(
  number: number,
  message = 'server error',
  severity = 16,
): InstanceType<typeof mssql.RequestError> {
  const error = new mssql.RequestError(message, 'EREQUEST');
  Object.assign(error, { number, class: severity });
  return error;
}

function check(
  classify: (error: unknown) => ErrorClassification,
  table: readonly [string, unknown, ErrorReason, boolean][],
): void {
  for (const [name, error, reason, retryable] of table) {
    it(`${name} → ${reason}${retryable ? ', retryable' : ''}`, () => {
      const classified = classify(error);
      assert.equal(classified.reason, reason);
      // Unset means the reason's default: unavailable, timeout and rate_limited are retried.
      const retried = classified.retryable ?? ['unavailable', 'timeout', 'rate_limited'].includes(reason);
      assert.equal(retried, retryable);
    });
  }
}

describe('classifyPostgresError', () => {
  check(classifyPostgresError, [
    ['23505 unique violation', pgError('23505'), 'conflict', false],
    ['23P01 exclusion violation', pgError('23P01'), 'conflict', false],
    ['25006 a write on a read-only standby', pgError('25006'), 'unavailable', true],
    ['40001 serialization failure', pgError('40001'), 'conflict', true],
    ['40P01 deadlock', pgError('40P01'), 'conflict', true],
    ['57014 query canceled', pgError('57014'), 'timeout', false],
    ['08006 connection failure', pgError('08006'), 'unavailable', true],
    ['08001 cannot connect', pgError('08001'), 'unavailable', true],
    ['57P01 admin shutdown', pgError('57P01'), 'unavailable', true],
    ['57P03 cannot connect now', pgError('57P03'), 'unavailable', true],
    [
      '28P01 bad password',
      pgError('28P01', 'password authentication failed for user "alice"'),
      'unauthorized',
      false,
    ],
    ['28000 no such role', pgError('28000'), 'unauthorized', false],
    ['42601 syntax error', pgError('42601'), 'validation', false],
    ['42P01 undefined table', pgError('42P01'), 'validation', false],
    ['23502 not null', pgError('23502'), 'validation', false],
    ['22P02 invalid text', pgError('22P02'), 'validation', false],
    ['53300 too many connections', pgError('53300'), 'rate_limited', true],
    ['53100 disk full', pgError('53100'), 'unavailable', true],
    ['XX000 internal', pgError('XX000'), 'internal', false],
    ['XX001 data corrupted', pgError('XX001'), 'internal', false],
    ['58030 I/O error', pgError('58030'), 'internal', false],
    ['57P04 database dropped', pgError('57P04'), 'unavailable', true],
    // What the statement itself got wrong (issue #22): the caller's, whatever the class.
    [
      '08P01 bind message with too few values',
      pgError('08P01', 'bind message supplies 1 parameters, but prepared statement "" requires 2'),
      'validation',
      false,
    ],
    [
      '08P01 answered FATAL: the session ended',
      pgError('08P01', 'invalid frontend message', 'FATAL'),
      'unavailable',
      true,
    ],
    ['0A000 feature not supported', pgError('0A000'), 'validation', false],
    ['21000 cardinality violation', pgError('21000'), 'validation', false],
    ['22012 division by zero', pgError('22012'), 'validation', false],
    ['2BP01 dependent objects still exist', pgError('2BP01'), 'validation', false],
    ['44000 with check option violation', pgError('44000'), 'validation', false],
    ['54001 statement too complex', pgError('54001'), 'validation', false],
    ['55006 object in use', pgError('55006'), 'validation', false],
    ['P0001 raise exception', pgError('P0001'), 'validation', false],
    [
      'ECONNREFUSED',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      'unavailable',
      true,
    ],
    ['connection terminated', new Error('Connection terminated unexpectedly'), 'unavailable', true],
    ['pool connect timeout', new Error('timeout exceeded when trying to connect'), 'timeout', true],
    ['anything else', new Error('boom'), 'internal', false],
  ]);

  it('names no user in a failed login', () => {
    const classified = classifyPostgresError(
      pgError('28P01', 'password authentication failed for user "alice"'),
    );
    assert.doesNotMatch(classified.message ?? '', /alice/);
  });
});

describe('classifySqlServerError', () => {
  check(classifySqlServerError, [
    ['2627 primary key', serverError(2627), 'conflict', false],
    ['2601 unique index', serverError(2601), 'conflict', false],
    ['1205 deadlock victim', serverError(1205, 'Transaction was deadlocked', 13), 'conflict', true],
    ['1222 lock timeout', serverError(1222), 'timeout', false],
    ['18456 login failed', serverError(18456, "Login failed for user 'alice'.", 14), 'unauthorized', false],
    ['4060 cannot open database', serverError(4060, 'Cannot open database', 11), 'unavailable', true],
    ['40613 database unavailable', serverError(40613), 'unavailable', true],
    ['10928 resource limit', serverError(10928), 'rate_limited', true],
    ['10929 resource limit', serverError(10929), 'rate_limited', true],
    ['40501 service busy', serverError(40501), 'rate_limited', true],
    ['208 invalid object', serverError(208), 'validation', false],
    ['102 syntax', serverError(102), 'validation', false],
    ['515 not null', serverError(515), 'validation', false],
    ['severity 20 fatal', serverError(50_000, 'fatal', 20), 'unavailable', true],
    // Severities 11 to 16 are errors the user can correct (issue #22): the caller's.
    [
      '137 undeclared variable (a parameter not passed)',
      serverError(137, 'Must declare', 15),
      'validation',
      false,
    ],
    ['8178 parameter not supplied', serverError(8178), 'validation', false],
    ['201 procedure expects a parameter', serverError(201), 'validation', false],
    ['8134 divide by zero', serverError(8134), 'validation', false],
    ['8115 arithmetic overflow', serverError(8115), 'validation', false],
    ['220 arithmetic overflow for a type', serverError(220), 'validation', false],
    ['2714 object exists', serverError(2714), 'validation', false],
    ['50000 RAISERROR of severity 16', serverError(50_000), 'validation', false],
    [
      '229 permission denied',
      serverError(229, 'The SELECT permission was denied', 14),
      'unauthorized',
      false,
    ],
    [
      '230 column permission denied',
      serverError(230, 'The SELECT permission was denied', 14),
      'unauthorized',
      false,
    ],
    [
      'the number and severity on the driver error only',
      Object.assign(new mssql.RequestError('Must declare', 'EREQUEST'), {
        originalError: { info: { number: 137, class: 15 } },
      }),
      'validation',
      false,
    ],
    ['severity 17 insufficient resources', serverError(701, 'insufficient memory', 17), 'internal', false],
    ['severity 18 internal error', serverError(50_000, 'nonfatal internal error', 18), 'internal', false],
    ['a number without a severity', Object.assign(new Error('odd'), { number: 50_000 }), 'internal', false],
    [
      'a parameter tedious refuses',
      // mssql raises it with a code its typings leave out.
      Object.assign(new mssql.RequestError("Validation failed for parameter 'p1'. Invalid number."), {
        code: 'EPARAM',
      }),
      'validation',
      false,
    ],
    ['driver timeout', new mssql.RequestError('Timeout', 'ETIMEOUT'), 'timeout', true],
    ['cancelled by berth', new mssql.RequestError('Canceled.', 'ECANCEL'), 'timeout', false],
    ['socket error', new mssql.ConnectionError('Connection lost', 'ESOCKET'), 'unavailable', true],
    [
      'login (driver)',
      new mssql.ConnectionError("Login failed for user 'alice'", 'ELOGIN'),
      'unauthorized',
      false,
    ],
    ['anything else', new Error('boom'), 'internal', false],
  ]);

  it('names no user in a failed login', () => {
    for (const error of [
      serverError(18456, "Login failed for user 'alice'.", 14),
      new mssql.ConnectionError("Login failed for user 'alice'", 'ELOGIN'),
    ]) {
      assert.doesNotMatch(classifySqlServerError(error).message ?? '', /alice/);
    }
  });
});
