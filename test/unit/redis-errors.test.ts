import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AbortError,
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  ErrorReply,
  SimpleError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
} from 'redis';
import { classifyRedisError } from '../../src/adapters/redis/index.ts';

const networkError = (code: string): Error =>
  Object.assign(new Error(`connect ${code} 127.0.0.1:6379`), { code });

describe('classifyRedisError', () => {
  const table: [string, unknown, string, boolean][] = [
    [
      'wrong password',
      new SimpleError('WRONGPASS invalid username-password pair or user is disabled.'),
      'unauthorized',
      false,
    ],
    ['no auth', new SimpleError('NOAUTH Authentication required.'), 'unauthorized', false],
    [
      'no permission',
      new SimpleError("NOPERM User x has no permissions to run the 'get' command"),
      'unauthorized',
      false,
    ],
    [
      'wrong type',
      new SimpleError('WRONGTYPE Operation against a key holding the wrong kind of value'),
      'conflict',
      false,
    ],
    ['loading', new SimpleError('LOADING Redis is loading the dataset in memory'), 'unavailable', true],
    ['busy script', new SimpleError('BUSY Redis is busy running a script.'), 'unavailable', true],
    [
      'read-only replica',
      new SimpleError("READONLY You can't write against a read only replica."),
      'unavailable',
      true,
    ],
    ['cluster redirect', new ErrorReply('MOVED 3999 127.0.0.1:6381'), 'unavailable', true],
    [
      'out of memory',
      new SimpleError("OOM command not allowed when used memory > 'maxmemory'."),
      'unavailable',
      false,
    ],
    // The server lacks a command the adapter needs: neither the caller's request nor an outage.
    [
      'unknown command',
      new SimpleError("ERR unknown command 'GETEX', with args beginning with: "),
      'internal',
      false,
    ],
    // What the command itself got wrong (issue #22): the caller's.
    ['syntax error', new SimpleError('ERR syntax error'), 'validation', false],
    [
      'wrong number of arguments',
      new SimpleError("ERR wrong number of arguments for 'set' command"),
      'validation',
      false,
    ],
    ['not an integer', new SimpleError('ERR value is not an integer or out of range'), 'validation', false],
    [
      "keys in several slots (the adapter's own command)",
      new SimpleError("CROSSSLOT Keys in request don't hash to the same slot"),
      'internal',
      false,
    ],
    ['no such script', new SimpleError('NOSCRIPT No matching script. Please use EVAL.'), 'validation', false],
    ['an unknown reply code', new SimpleError('NEWCODE something the command did'), 'validation', false],
    // What says the server is unwell.
    [
      'a password the server does not expect',
      new SimpleError('ERR AUTH <password> called without any password configured for the default user.'),
      'config',
      false,
    ],
    ['a database number past the last', new SimpleError('ERR DB index is out of range'), 'config', false],
    ['too many clients', new SimpleError('ERR max number of clients reached'), 'rate_limited', true],
    [
      'snapshots failing',
      new SimpleError(
        'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.',
      ),
      'unavailable',
      false,
    ],
    [
      'too few replicas',
      new SimpleError('NOREPLICAS Not enough good replicas to write.'),
      'unavailable',
      true,
    ],
    [
      'transaction discarded',
      new SimpleError('EXECABORT Transaction discarded because of previous errors.'),
      'internal',
      false,
    ],
    ['offline', new ClientOfflineError(), 'unavailable', true],
    ['socket closed', new SocketClosedUnexpectedlyError(), 'unavailable', true],
    ['connect timeout', new ConnectionTimeoutError(), 'unavailable', true],
    ['closed client', new ClientClosedError(), 'closed', false],
    ['socket timeout', new SocketTimeoutError(100), 'timeout', true],
    ['aborted', new AbortError(), 'timeout', true],
    ['refused', networkError('ECONNREFUSED'), 'unavailable', true],
    ['reset', networkError('ECONNRESET'), 'unavailable', true],
    ['dns', networkError('ENOTFOUND'), 'unavailable', true],
    ['a plain bug', new TypeError('x is not a function'), 'internal', false],
    ['not an error', 'string thrown', 'internal', false],
  ];
  const retryableReasons = new Set(['unavailable', 'timeout', 'rate_limited']);

  for (const [name, error, reason, retryable] of table) {
    it(`${name} → ${reason}${retryable ? ', retryable' : ''}`, () => {
      const classified = classifyRedisError(error);
      assert.equal(classified.reason, reason);
      assert.equal(classified.retryable ?? retryableReasons.has(classified.reason), retryable);
    });
  }
});
