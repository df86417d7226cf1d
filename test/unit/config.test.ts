import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryCache } from '../../src/adapters/memory/index.ts';
import { createRedisCache } from '../../src/adapters/redis/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { ConfigError } from '../../src/ports/index.ts';
import { silentRuntime } from '../support/runtime.ts';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a ConfigError');
}

const password = 'pa55-not-for-logs';

describe('loadConfig', () => {
  it('defaults to the memory cache', () => {
    const config = loadConfig({});
    assert.equal(config.cache.driver, 'memory');
    assert.ok(config.cache.driver === 'memory' && config.cache.maxEntries > 0);
  });

  it('builds Redis options from REDIS_URL and friends', () => {
    const config = loadConfig({
      CACHE_DRIVER: 'redis',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: 'app:',
      CACHE_TIMEOUT_MS: '250',
    });
    assert.equal(config.cache.driver, 'redis');
    assert.ok(config.cache.driver === 'redis');
    assert.equal(config.cache.url, 'redis://127.0.0.1:6379');
    assert.equal(config.cache.keyPrefix, 'app:');
    assert.equal(config.cache.policies?.timeoutMs, 250);
  });

  it('lists every problem at once, named by variable', () => {
    const error = configError(() =>
      loadConfig({ CACHE_DRIVER: 'memory', CACHE_MAX_ENTRIES: 'lots', CACHE_TIMEOUT_MS: '-3' }),
    );
    const paths = error.issues.map((issue) => issue.path).sort();
    assert.deepEqual(paths, ['CACHE_MAX_ENTRIES', 'CACHE_TIMEOUT_MS']);
    assert.deepEqual(
      configError(() => loadConfig({ CACHE_DRIVER: 'memcached' })).issues.map((i) => i.path),
      ['CACHE_DRIVER'],
    );
    assert.deepEqual(
      configError(() => loadConfig({ CACHE_DRIVER: 'redis' })).issues.map((i) => i.path),
      ['REDIS_URL'],
    );
  });

  it('never echoes a password from a bad REDIS_URL', () => {
    const error = configError(() =>
      loadConfig({ CACHE_DRIVER: 'redis', REDIS_URL: `http://user:${password}@host` }),
    );
    assert.deepEqual(
      error.issues.map((i) => i.path),
      ['REDIS_URL'],
    );
    assert.equal(
      JSON.stringify({ message: error.message, issues: error.issues, stack: error.stack }).includes(password),
      false,
    );
  });
});

describe('adapter options', () => {
  it('createRedisCache names each bad option and echoes no secret', () => {
    const error = configError(() =>
      createRedisCache(
        {
          url: `ftp://admin:${password}@example`,
          keyPrefix: 7 as unknown as string,
          connectTimeoutMs: -1,
          policies: { timeoutMs: 0, retry: { maxAttempts: 0 } },
          unknownOption: true,
        } as never,
        silentRuntime(),
      ),
    );
    const paths = error.issues.map((issue) => issue.path).sort();
    assert.deepEqual(paths, [
      '',
      'connectTimeoutMs',
      'keyPrefix',
      'policies.retry.maxAttempts',
      'policies.timeoutMs',
      'url',
    ]);
    assert.equal(JSON.stringify({ message: error.message, issues: error.issues }).includes(password), false);
  });

  it('createMemoryCache rejects a bad size bound', () => {
    const error = configError(() => createMemoryCache({ maxEntries: 0 }, silentRuntime()));
    assert.deepEqual(
      error.issues.map((issue) => issue.path),
      ['maxEntries'],
    );
  });
});
