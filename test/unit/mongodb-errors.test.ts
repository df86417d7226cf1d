import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MongoClientClosedError,
  MongoInvalidArgumentError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoNotConnectedError,
  MongoParseError,
  MongoServerError,
  MongoServerSelectionError,
} from 'mongodb';
import { classifyMongoError } from '../../src/adapters/mongodb/index.ts';
import type { ErrorReason } from '../../src/ports/index.ts';

const server = (code: number, message = 'server error', labels: string[] = []): MongoServerError => {
  const error = new MongoServerError({ message, errmsg: message, code });
  for (const label of labels) error.addErrorLabel(label);
  return error;
};

describe('classifyMongoError', () => {
  const table: [string, unknown, ErrorReason, boolean][] = [
    ['duplicate key', server(11000, 'E11000 duplicate key error'), 'conflict', false],
    [
      'FerretDB unique violation on update',
      server(1, "constraint failed: UNIQUE constraint failed: index 'c_berth_unique_email' (2067)"),
      'conflict',
      false,
    ],
    ['other InternalError', server(1, 'something broke'), 'internal', false],
    ['unauthorized', server(13, 'not authorized on db'), 'unauthorized', false],
    ['authentication failed', server(18, 'Authentication failed.'), 'unauthorized', false],
    ['max time expired', server(50, 'operation exceeded time limit'), 'timeout', true],
    ['bad value', server(2, 'unknown operator: $foo'), 'validation', false],
    ['failed to parse', server(9, 'failed to parse'), 'validation', false],
    ['path not viable', server(28, 'Cannot create field'), 'validation', false],
    ['namespace not found', server(26, 'ns not found'), 'not_found', false],
    ['write conflict', server(112, 'WriteConflict'), 'conflict', true],
    ['primary stepped down', server(189, 'stepped down'), 'unavailable', true],
    ['not writable primary', server(10107, 'not primary'), 'unavailable', true],
    ['rate limited (Cosmos DB)', server(16500, 'Request rate is large'), 'rate_limited', true],
    ['not implemented (FerretDB)', server(238, 'not implemented'), 'internal', false],
    // What the request itself got wrong (issue #22): the caller's.
    ['invalid options', server(72, 'invalid options'), 'validation', false],
    ['document validation', server(121, 'Document failed validation'), 'validation', false],
    ['unknown expression', server(168, "Unrecognized expression '$foo'"), 'validation', false],
    [
      'unknown pipeline stage',
      server(40324, "Unrecognized pipeline stage name: '$foo'"),
      'validation',
      false,
    ],
    ['document too large', server(10334, 'object to insert too large'), 'validation', false],
    [
      'updated document too large',
      server(17419, 'Resulting document after update is larger than 16777216'),
      'validation',
      false,
    ],
    [
      'a document over the BSON serializer buffer',
      Object.assign(
        new RangeError('The value of "offset" is out of range. It must be >= 0 && <= 17825792.'),
        {
          code: 'ERR_OUT_OF_RANGE',
        },
      ),
      'validation',
      false,
    ],
    ['another RangeError', new RangeError('Invalid array length'), 'internal', false],
    ['retryable write label', server(99999, 'x', ['RetryableWriteError']), 'unavailable', true],
    ['unknown server code', server(99999, 'x'), 'internal', false],
    ['network error', new MongoNetworkError('connect ECONNREFUSED 127.0.0.1:27017'), 'unavailable', true],
    ['network timeout', new MongoNetworkTimeoutError('connection timed out'), 'timeout', true],
    [
      'server selection',
      new MongoServerSelectionError('Server selection timed out after 2000 ms', {} as never),
      'unavailable',
      true,
    ],
    ['not connected', new MongoNotConnectedError('not connected'), 'unavailable', true],
    ['client closed', new MongoClientClosedError(), 'closed', false],
    ['bad connection string', new MongoParseError('Invalid scheme'), 'config', false],
    ['invalid argument', new MongoInvalidArgumentError('bad option'), 'validation', false],
    ['anything else', new Error('boom'), 'internal', false],
    ['a non-error', 'boom', 'internal', false],
  ];
  for (const [name, error, reason, retryable] of table) {
    it(`${name} → ${reason}`, () => {
      const classified = classifyMongoError(error);
      assert.equal(classified.reason, reason);
      // retryable left undefined falls back to the reason's default
      const defaultRetryable = ['unavailable', 'timeout', 'rate_limited'].includes(reason);
      assert.equal(classified.retryable ?? defaultRetryable, retryable);
    });
  }
});
