import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errors, types } from 'cassandra-driver';
import { classifyCassandraError } from '../../src/adapters/cassandra/errors.ts';
import type { ErrorReason } from '../../src/ports/index.ts';

const codes = types.responseErrorCodes;
const response = (code: number, message = 'server error'): errors.ResponseError =>
  new errors.ResponseError(code, message);
const noHost = (inner: Record<string, Error>): errors.NoHostAvailableError =>
  new errors.NoHostAvailableError(inner);

describe('classifyCassandraError', () => {
  const table: [string, unknown, ErrorReason, boolean][] = [
    [
      'no host available (connection refused)',
      noHost({ '127.0.0.1:9042': new Error('connect ECONNREFUSED 127.0.0.1:9042') }),
      'unavailable',
      true,
    ],
    ['no host available without inner errors', new errors.NoHostAvailableError(null), 'unavailable', true],
    [
      'no host available, every host refused the credentials',
      noHost({
        '10.0.0.1:9042': new errors.AuthenticationError('Authentication failed'),
        '10.0.0.2:9042': response(codes.badCredentials, 'Provided username u and/or password are incorrect'),
      }),
      'unauthorized',
      false,
    ],
    [
      'no host available, every connection busy',
      noHost({ '10.0.0.1:9042': new errors.BusyConnectionError('10.0.0.1:9042', 2048, 1) }),
      'rate_limited',
      true,
    ],
    [
      'no host available, one refused credentials and one is down',
      noHost({
        '10.0.0.1:9042': new errors.AuthenticationError('Authentication failed'),
        '10.0.0.2:9042': new Error('connect ECONNREFUSED'),
      }),
      'unavailable',
      true,
    ],
    [
      'client-side request timeout',
      new errors.OperationTimedOutError(
        'The host 127.0.0.1:9042 did not reply before timeout 12000 ms',
        '127.0.0.1:9042',
      ),
      'timeout',
      true,
    ],
    [
      'read timeout',
      response(codes.readTimeout, 'Operation timed out - received only 0 responses.'),
      'timeout',
      true,
    ],
    [
      'write timeout',
      response(codes.writeTimeout, 'Operation timed out - received only 0 responses.'),
      'timeout',
      true,
    ],
    [
      'not enough replicas for the consistency level',
      response(codes.unavailableException, 'Cannot achieve consistency level LOCAL_QUORUM'),
      'unavailable',
      true,
    ],
    [
      'overloaded coordinator',
      response(codes.overloaded, 'Server is in overloaded state'),
      'rate_limited',
      true,
    ],
    [
      'bootstrapping node',
      response(codes.isBootstrapping, 'Cannot read from a bootstrapping node'),
      'unavailable',
      true,
    ],
    [
      'statement unknown to the node',
      response(codes.unprepared, 'Prepared query with ID not found'),
      'unavailable',
      true,
    ],
    [
      'bad credentials',
      response(codes.badCredentials, 'Provided username u and/or password are incorrect'),
      'unauthorized',
      false,
    ],
    [
      'driver authentication error',
      new errors.AuthenticationError('Authentication provider not set'),
      'unauthorized',
      false,
    ],
    [
      'permission denied',
      response(codes.unauthorized, 'User u has no SELECT permission'),
      'unauthorized',
      false,
    ],
    [
      'syntax error',
      response(codes.syntaxError, "line 1:7 no viable alternative at input 'FROM'"),
      'validation',
      false,
    ],
    [
      'invalid query',
      response(codes.invalid, 'Invalid STRING constant for time of type timestamp'),
      'validation',
      false,
    ],
    ['missing table', response(codes.invalid, 'unconfigured table points'), 'config', false],
    ['missing keyspace', response(codes.invalid, 'Keyspace metrics does not exist'), 'config', false],
    ['configuration error', response(codes.configError, 'Cannot add column'), 'config', false],
    [
      'already exists',
      response(codes.alreadyExists, 'Table metrics.points already exists'),
      'conflict',
      false,
    ],
    [
      'read failure on replicas',
      response(codes.readFailure, 'Operation failed - received 0 responses and 1 failures'),
      'internal',
      false,
    ],
    [
      'write failure on replicas',
      response(codes.writeFailure, 'Operation failed - received 0 responses and 1 failures'),
      'internal',
      false,
    ],
    ['server error', response(codes.serverError, 'java.lang.RuntimeException'), 'internal', false],
    // A function of the statement failed on its arguments (issue #22): the caller's.
    [
      'function failure',
      response(codes.functionFailure, "execution of 'system.blobasint[blob]' failed"),
      'validation',
      false,
    ],
    [
      'protocol error',
      response(codes.protocolError, 'Invalid or unsupported protocol version'),
      'internal',
      false,
    ],
    ['bad argument', new errors.ArgumentError('Invalid type for timestamp'), 'validation', false],
    ['not supported', new errors.NotSupportedError('Named parameters are not supported'), 'internal', false],
    ['driver bug', new errors.DriverInternalError('unexpected frame'), 'internal', false],
    ['an unknown server code', response(0x7777, 'x'), 'internal', false],
    ['anything else', new Error('boom'), 'internal', false],
    ['a non-error', 'boom', 'internal', false],
  ];
  for (const [name, error, reason, retryable] of table) {
    it(`${name} → ${reason}`, () => {
      const classified = classifyCassandraError(error);
      assert.equal(classified.reason, reason);
      // retryable left undefined falls back to the reason's default
      const defaultRetryable = ['unavailable', 'timeout', 'rate_limited'].includes(reason);
      assert.equal(classified.retryable ?? defaultRetryable, retryable);
    });
  }

  it('says authentication failed without repeating the server text, which names the user', () => {
    const classified = classifyCassandraError(
      response(codes.badCredentials, 'Provided username berth_admin and/or password are incorrect'),
    );
    assert.ok(classified.message !== undefined && !classified.message.includes('berth_admin'));
    const unreachable = classifyCassandraError(
      noHost({
        h: response(codes.badCredentials, 'Provided username berth_admin and/or password are incorrect'),
      }),
    );
    assert.ok(unreachable.message !== undefined && !unreachable.message.includes('berth_admin'));
  });

  it('names the missing keyspace or table as a configuration problem, pointing at createSchema', () => {
    assert.match(
      classifyCassandraError(response(codes.invalid, 'unconfigured table points')).message ?? '',
      /createSchema/,
    );
  });
});
