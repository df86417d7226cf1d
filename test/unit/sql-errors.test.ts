import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import mssql from 'mssql';
import { DatabaseError } from 'pg';
import { classifySqlServerError } from '../../src/adapters/mssql/errors.ts';
import { classifyPostgresError } from '../../src/adapters/postgres/errors.ts';
import type { ErrorClassification, ErrorReason } from '../../src/ports/index.ts';

/** An error as pg raises it from a server ErrorResponse: SQLSTATE in `code`. */
function pgError(code: string, message = 'server error'): DatabaseError {
  const error = new DatabaseError(message, 0, 'error');
  error.code = code;
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
    ['XX000 internal', pgError('XX000'), 'internal', false],
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
    ['other server error', serverError(50_000), 'internal', false],
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
