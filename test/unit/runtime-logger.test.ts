// The runtime's logger: a bad LOG_LEVEL is a ConfigError listing the levels, and the runtime an
// adapter falls back on without one of the application's stays quiet unless asked.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ConfigError } from '../../src/ports/errors.ts';
import { createLogger, createRuntime, logLevels } from '../../src/runtime/runtime.ts';

const root = path.join(import.meta.dirname, '..', '..');
const levels = 'fatal, error, warn, info, debug, trace, silent';

function withLogLevel<T>(value: string | undefined, run: () => T): T {
  const before = process.env.LOG_LEVEL;
  if (value === undefined) delete process.env.LOG_LEVEL;
  else process.env.LOG_LEVEL = value;
  try {
    return run();
  } finally {
    if (before === undefined) delete process.env.LOG_LEVEL;
    else process.env.LOG_LEVEL = before;
  }
}

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail('expected a ConfigError');
}

describe('the runtime’s logger', () => {
  it('names a bad LOG_LEVEL and lists the levels, at createRuntime()', () => {
    assert.deepEqual(logLevels, levels.split(', '));
    const error = withLogLevel('loud', () => configError(() => createRuntime()));
    assert.deepEqual(error.issues, [{ path: 'LOG_LEVEL', message: `must be one of ${levels}` }]);
    assert.equal(error.message, `Invalid logger: LOG_LEVEL: must be one of ${levels}`);
  });

  it('names a bad level given in code as `level`', () => {
    const error = configError(() => createLogger({ level: 'verbose' }));
    assert.deepEqual(error.issues, [{ path: 'level', message: `must be one of ${levels}` }]);
  });

  it('takes LOG_LEVEL when set, an empty one as unset', () => {
    assert.equal(
      withLogLevel('debug', () => createLogger().level),
      'debug',
    );
    assert.equal(
      withLogLevel('', () => createLogger().level),
      'info',
    );
    assert.equal(
      withLogLevel('debug', () => createLogger({ level: 'error' }).level),
      'error',
    );
  });

  async function memoryAdaptersOutput(env: Record<string, string>): Promise<string> {
    const script = `
      import { createMemoryBroker, createMemoryCache } from './src/adapters/memory/index.ts';
      const cache = createMemoryCache();
      await cache.set('a', 1);
      await cache.get('a');
      await cache.close();
      const broker = createMemoryBroker();
      const subscription = broker.subscribe('greeted', async () => {}, { group: 'counter' });
      await new Promise((resolve) => setTimeout(resolve, 50)); // it logs once it consumes
      await subscription.close();
      await broker.close();
    `;
    const child = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: '', ...env },
      timeout: 30_000,
    });
    return child.stdout + child.stderr;
  }

  it('the default runtime (an adapter built without one) logs warnings, not info, unless LOG_LEVEL asks', async () => {
    assert.equal(await memoryAdaptersOutput({}), '');
    assert.match(await memoryAdaptersOutput({ LOG_LEVEL: 'info' }), /"level":30/);
  });
});
