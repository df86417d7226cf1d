// Credential rotation's one mechanism (#26): a rotating secret read again past the cache, once for
// every caller, not again within a second when nothing changed; guard() reading it again once when
// a call or probe is refused (`unauthorized`) and trying once more only when it changed; and
// loadConfig keeping each secret:// reference of a secret variable as one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemorySecretStore } from '../../src/adapters/memory/index.ts';
import { loadConfig } from '../../src/index.ts';
import { Redacted } from '../../src/ports/index.ts';
import { RotatingSecret, rotatingSecret } from '../../src/ports/rotating-secret.ts';
import { cachedSecretStore, Guard, semconv } from '../../src/runtime/index.ts';
import { CredentialRenewal } from '../../src/runtime/guard/credential-renewal.ts';
import { capturingRuntime, silentRuntime } from '../support/runtime.ts';

/** A secret whose store answers `values` in turn, counting reads. */
function countedSecret(...values: string[]): { secret: RotatingSecret; reads: () => number } {
  let reads = 0;
  const secret = new RotatingSecret('db-password', values[0]!, () => {
    reads++;
    return Promise.resolve(values[Math.min(reads, values.length - 1)]!);
  });
  return { secret, reads: () => reads };
}

describe('credential rotation', () => {
  it('a rotating secret prints as <redacted>, is a Redacted, and keeps its name', () => {
    const { secret } = countedSecret('s3cret');
    assert.ok(secret instanceof Redacted);
    assert.equal(String(secret), '<redacted>');
    assert.equal(JSON.stringify({ secret }), '{"secret":"<redacted>"}');
    assert.equal(secret.reveal(), 's3cret');
    assert.equal(secret.name, 'db-password');
  });

  it('renew: one read for concurrent callers, none within a second of a read that found nothing new', async () => {
    const { secret, reads } = countedSecret('old', 'old', 'new');
    assert.deepEqual(await Promise.all([secret.renew(), secret.renew(), secret.renew()]), [
      false,
      false,
      false,
    ]);
    assert.equal(reads(), 1);
    assert.equal(await secret.renew(), false, 'within the quiet second');
    assert.equal(reads(), 1);
  });

  it('renew: a changed value is taken, and callers within the next second are told it changed', async () => {
    const { secret, reads } = countedSecret('old', 'new');
    assert.equal(await secret.renew(), true);
    assert.equal(secret.reveal(), 'new');
    assert.equal(secret.version, 1);
    assert.equal(await secret.renew(), true, 'a caller that failed with the old value tries again');
    assert.equal(reads(), 1);
  });

  it('rotatingSecret reads past a caching store', async () => {
    const store = createMemorySecretStore({ secrets: { 'db-password': 'old' } }, silentRuntime());
    const cached = cachedSecretStore(store, { ttlMs: 60_000 }, silentRuntime());
    const secret = await rotatingSecret(cached, 'db-password');
    await store.set('db-password', 'new');
    assert.equal((await cached.get('db-password')).value.reveal(), 'old', 'the cache still answers old');
    assert.equal(await secret.renew(), true);
    assert.equal(secret.reveal(), 'new');
    await cached.close();
  });

  it('a store that cannot be read is logged by reason, and the value kept', async () => {
    const runtime = capturingRuntime();
    const secret = new RotatingSecret('db-password', 'old', () =>
      Promise.reject(new Error('vault down old')),
    );
    const renewal = CredentialRenewal.of([secret, 'plain', undefined], runtime.logger)!;
    assert.equal(await renewal.renew(), false);
    assert.equal(secret.reveal(), 'old');
    assert.match(runtime.logs(), /could not read a refused secret again/);
    assert.equal(CredentialRenewal.of(['plain', new Redacted('x')], runtime.logger), undefined);
  });

  describe('guard', () => {
    function guardWith(secret: RotatingSecret) {
      const runtime = capturingRuntime({ timeoutMs: 5_000, retry: { maxAttempts: 1 } });
      const guard = new Guard<'write'>(
        {
          id: 'test:fake',
          port: 'test',
          system: 'fake',
          operations: { write: { idempotent: false } },
          metrics: semconv.dbClientOperationDuration,
          classifyError: (error) =>
            (error as Error).message === 'refused' ? { reason: 'unauthorized' } : { reason: 'internal' },
          credentialRenewal: CredentialRenewal.of([secret], runtime.logger),
        },
        runtime,
      );
      return { guard, runtime };
    }
    // A backend that takes only `accepted`, as a server after its password changed.
    const backend = (secret: RotatingSecret, accepted: string) => {
      const attempts: string[] = [];
      const call = (): Promise<string> => {
        attempts.push(secret.reveal());
        return secret.reveal() === accepted ? Promise.resolve('ok') : Promise.reject(new Error('refused'));
      };
      return { attempts, call };
    };

    it('a refused call reads the secret again and tries once more with the new value, even when not idempotent', async () => {
      const { secret, reads } = countedSecret('old', 'new');
      const { guard, runtime } = guardWith(secret);
      const server = backend(secret, 'new');
      assert.equal(await guard.run('write', undefined, server.call), 'ok');
      assert.deepEqual(server.attempts, ['old', 'new']);
      assert.equal(reads(), 1);
      assert.match(runtime.logs(), /credentials renewed from the secret store/);
      assert.equal(runtime.logs().includes('"new"'), false);
    });

    it('a refused call whose secret did not change fails as it was refused, tried once', async () => {
      const { secret } = countedSecret('old', 'old');
      const { guard } = guardWith(secret);
      const server = backend(secret, 'new');
      await assert.rejects(guard.run('write', undefined, server.call), { reason: 'unauthorized' });
      assert.deepEqual(server.attempts, ['old']);
    });

    it('a call is renewed once at most: refused again with the new value, it fails', async () => {
      const { secret, reads } = countedSecret('old', 'newer', 'newest');
      const { guard } = guardWith(secret);
      const server = backend(secret, 'newest');
      await assert.rejects(guard.run('write', undefined, server.call), { reason: 'unauthorized' });
      assert.deepEqual(server.attempts, ['old', 'newer']);
      assert.equal(reads(), 1);
    });

    it('a refused probe reads the secret again and probes once more', async () => {
      const { secret } = countedSecret('old', 'new');
      const { guard } = guardWith(secret);
      const server = backend(secret, 'new');
      const health = await guard.health(async () => {
        await server.call();
        return { status: 'up' };
      });
      assert.equal(health.status, 'up');
      assert.deepEqual(server.attempts, ['old', 'new']);
    });
  });

  it('loadConfig keeps a secret:// reference of a secret variable as a rotating secret', async () => {
    const secrets = createMemorySecretStore({
      secrets: { 'redis-password': 'pw-1', 'redis-url': 'redis://h:1' },
    });
    const config = await loadConfig(
      { CACHE_DRIVER: 'redis', REDIS_URL: 'secret://redis-url', REDIS_PASSWORD: 'secret://redis-password' },
      { secrets, onUnknownVariables: () => undefined },
    );
    const cache = config.cache as { url: string; password: unknown };
    assert.ok(cache.password instanceof RotatingSecret);
    assert.equal(cache.password.name, 'redis-password');
    assert.equal(cache.password.reveal(), 'pw-1');
    // A URL is text, not a secret option: read once, as before.
    assert.equal(cache.url, 'redis://h:1');
    await secrets.set('redis-password', 'pw-2');
    assert.equal(await cache.password.renew(), true);
    assert.equal(cache.password.reveal(), 'pw-2');
  });
});
