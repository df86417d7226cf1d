import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { ConfigError, InfraError, Redacted, isInfraError, redactCredentials } from '../../src/ports/index.ts';

describe('InfraError', () => {
  it('is retryable by default only for transient reasons', () => {
    const retryable = ['unavailable', 'timeout', 'rate_limited'] as const;
    const permanent = [
      'config',
      'validation',
      'not_found',
      'conflict',
      'circuit_open',
      'unauthorized',
      'closed',
      'internal',
    ] as const;
    for (const reason of retryable) assert.equal(new InfraError(reason, 'x').retryable, true, reason);
    for (const reason of permanent) assert.equal(new InfraError(reason, 'x').retryable, false, reason);
    assert.equal(new InfraError('unavailable', 'x', { retryable: false }).retryable, false);
  });

  it('keeps its cause and context', () => {
    const cause = new Error('socket hang up');
    const error = new InfraError('unavailable', 'cache:redis get: lost', {
      cause,
      port: 'cache',
      adapter: 'redis',
      operation: 'get',
      retryAfterMs: 250,
    });
    assert.equal(error.cause, cause);
    assert.deepEqual(
      [error.port, error.adapter, error.operation, error.retryAfterMs],
      ['cache', 'redis', 'get', 250],
    );
  });

  it('is recognised across copies of the package by its marker, not by instanceof', () => {
    const fromAnotherCopy = Object.assign(new Error('x'), {
      [Symbol.for('berth.InfraError')]: true,
      reason: 'timeout',
    });
    assert.equal(isInfraError(fromAnotherCopy), true);
    assert.equal(isInfraError(new Error('plain')), false);
    assert.equal(isInfraError(null), false);
    assert.equal(isInfraError('timeout'), false);
  });

  it('ConfigError names every bad path in one message', () => {
    const error = new ConfigError('redis cache options', [
      { path: 'url', message: 'must be a redis:// URL' },
      { path: 'policies.timeoutMs', message: 'must be positive' },
    ]);
    assert.equal(error.reason, 'config');
    assert.equal(isInfraError(error), true);
    assert.match(error.message, /url: must be a redis:\/\/ URL/);
    assert.match(error.message, /policies\.timeoutMs: must be positive/);
  });
});

describe('Redacted and redactCredentials', () => {
  it('prints <redacted> everywhere but reveal()', () => {
    const secret = new Redacted('hunter2');
    assert.equal(String(secret), '<redacted>');
    // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- interpolation is the case under test
    assert.equal(`${secret}`, '<redacted>');
    assert.equal(JSON.stringify({ secret }), '{"secret":"<redacted>"}');
    assert.equal(inspect({ secret }).includes('hunter2'), false);
    assert.equal(secret.reveal(), 'hunter2');
  });

  it('removes passwords from URLs inside any text', () => {
    assert.equal(
      redactCredentials('connect to redis://app:s3cr%40t@10.0.0.1:6379/0 failed'),
      'connect to redis://app:<redacted>@10.0.0.1:6379/0 failed',
    );
    assert.equal(redactCredentials('rediss://:onlypass@host'), 'rediss://:<redacted>@host');
    assert.equal(
      redactCredentials('redis://host:6379 has no credentials'),
      'redis://host:6379 has no credentials',
    );
  });
});
