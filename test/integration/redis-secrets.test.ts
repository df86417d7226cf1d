import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { createClient } from 'redis';
import { createRedisCache } from '../../src/adapters/redis/index.ts';
import { HealthChecker } from '../../src/health/index.ts';
import { Redacted } from '../../src/ports/index.ts';
import { capturingRuntime } from '../support/runtime.ts';
import { findRedis } from '../support/servers.ts';

const redis = await findRedis();
const user = `berth-leak-${process.pid}`;
const password = `pw-${randomBytes(12).toString('hex')}`;
const wrongPassword = `wrong-${randomBytes(12).toString('hex')}`;

function urlWith(credentials: string): string {
  const url = new URL('skip' in redis ? 'redis://127.0.0.1' : redis.url);
  url.username = user;
  url.password = credentials;
  return url.toString();
}

/** Everything an error can show: message, stack, JSON and inspect output with its causes. */
function describeError(error: unknown): string {
  return [String(error), (error as Error).stack, JSON.stringify(error), inspect(error, { depth: 5 })].join(
    '\n',
  );
}

describe(
  'redis cache keeps its password out of logs, errors, metrics and health',
  { skip: 'skip' in redis ? redis.skip : false },
  () => {
    const admin = createClient('skip' in redis ? {} : { url: redis.url });

    before(async () => {
      await admin.connect();
      await admin.sendCommand(['ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all']);
    });

    after(async () => {
      await admin.sendCommand(['ACL', 'DELUSER', user]);
      admin.destroy();
    });

    it('working and failing, with the password in the URL and as a Redacted option', async () => {
      // A deadline far above what a fast failure costs even on a loaded machine, so that "fails fast,
      // not at the deadline" is told apart by a wide margin.
      const timeoutMs = 5_000;
      const runtime = capturingRuntime({ timeoutMs, retry: { maxAttempts: 2, initialDelayMs: 10 } });
      const captured: string[] = [];
      const opened: { close(): Promise<void> }[] = [];
      after(() => Promise.all(opened.map((cache) => cache.close())));

      const good = createRedisCache({ url: urlWith(password), keyPrefix: 'leak:' }, runtime);
      opened.push(good);
      await good.set('k', { ok: true });
      assert.deepEqual(await good.get('k'), { ok: true });

      const redactedOption = createRedisCache(
        { url: urlWith('placeholder'), password: new Redacted(password), keyPrefix: 'leak:' },
        runtime,
      );
      opened.push(redactedOption);
      assert.deepEqual(await redactedOption.get('k'), { ok: true });

      const bad = createRedisCache({ id: 'cache:bad', url: urlWith(wrongPassword) }, runtime);
      opened.push(bad);
      const started = performance.now();
      const failure = await bad.get('k').then(
        () => assert.fail('a wrong password must not work'),
        (error: unknown) => error,
      );
      assert.equal((failure as { reason?: string }).reason, 'unauthorized');
      const tookMs = performance.now() - started;
      assert.ok(
        tookMs < timeoutMs / 2,
        `a wrong password fails fast, not at the deadline: took ${tookMs} ms`,
      );
      captured.push(describeError(failure));

      const checker = new HealthChecker({ cacheTtlMs: 0 });
      for (const cache of [good, redactedOption, bad]) checker.register(cache.id + Math.random(), cache);
      const report = await checker.readiness();
      assert.equal(report.status, 'down');
      captured.push(JSON.stringify(report), inspect(report, { depth: 5 }));
      captured.push(JSON.stringify(await bad.health()), JSON.stringify(await good.health()));
      captured.push(inspect({ options: { password: new Redacted(password) } }));

      for (const cache of [good, redactedOption, bad]) await cache.close();
      captured.push(await runtime.registry.metrics(), runtime.logs());

      const everything = captured.join('\n');
      assert.ok(runtime.logs().includes('connected to Redis'), 'the logs were captured');
      assert.ok(
        runtime.logs().includes('<redacted>'),
        'the server URL was logged with its password redacted',
      );
      assert.ok(everything.includes('unauthorized'));
      assert.equal(everything.includes(password), false, 'the password leaked');
      assert.equal(everything.includes(wrongPassword), false, 'the wrong password leaked');
    });
  },
);
