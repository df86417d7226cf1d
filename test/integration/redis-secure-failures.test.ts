// What a user meets when the secure settings are wrong: each failure named (wrong password,
// untrusted certificate, host name mismatch, plaintext to a TLS port and the reverse), fast, never
// retried into a timeout, never hidden behind circuit_open, and no password in any log or error.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, it } from 'node:test';
import { createRedisCache } from '../../src/adapters/redis/index.ts';
import { isInfraError, type Cache } from '../../src/ports/index.ts';
import { Redacted } from '../../src/ports/redacted.ts';
import { rejectsWith } from '../../src/testing/infra-assertions.ts';
import { secretWatch, serverSecrets } from '../support/secret-watch.ts';
import { findRedisSecure } from '../support/secure-servers.ts';
import { findRedis } from '../support/servers.ts';

const secure = await findRedisSecure();
const plain = await findRedis();
const skip = 'skip' in secure ? secure.skip : 'skip' in plain ? plain.skip : false;

describe('redis over TLS with an ACL user: failures are named, fast, and keep secrets', { skip }, () => {
  if ('skip' in secure || 'skip' in plain) return;
  const ca = fs.readFileSync(secure.caFile, 'utf8');
  const url = new URL(secure.url);
  const password = decodeURIComponent(url.password);
  const opened: Cache[] = [];
  after(() => Promise.all(opened.map((cache) => cache.close())));
  const watch = secretWatch();
  after(() => watch.assertNoSecrets({ ...serverSecrets(secure), 'the wrong password': 'not-the-password' }));

  /** Three calls on one cache: each must fail for `reason`, saying `words`, within 2 s. */
  async function failsEachTime(
    options: Parameters<typeof createRedisCache>[0],
    reason: string,
    words: RegExp,
  ) {
    const cache = createRedisCache(
      { ...options, policies: { breaker: { consecutiveFailures: 2 } } },
      watch.runtime,
    );
    opened.push(cache);
    for (let call = 0; call < 3; call++) {
      const started = performance.now();
      const error = await rejectsWith(watch.watch(cache.get('k')), reason as never);
      const elapsedMs = performance.now() - started;
      assert.ok(elapsedMs < 2_000, `call ${call} failed in ${Math.round(elapsedMs)} ms`);
      assert.match(error.message, words, `call ${call}: ${error.message}`);
      assert.equal(String(error.message).includes(password), false);
    }
    const health = await cache.health();
    watch.keep(health);
    assert.equal(health.status, 'down');
  }

  it('a wrong password is unauthorized, named, and never retried', async () => {
    const wrong = new URL(secure.url);
    wrong.password = 'not-the-password';
    await failsEachTime({ url: wrong.toString(), tls: { ca } }, 'unauthorized', /WRONGPASS|password/i);
  });

  it('an unknown user is unauthorized', async () => {
    const stranger = new URL(secure.url);
    stranger.username = 'nobody';
    await failsEachTime({ url: stranger.toString(), tls: { ca } }, 'unauthorized', /WRONGPASS|user/i);
  });

  it('an untrusted certificate (no CA given) is a config error that says so', async () => {
    await failsEachTime({ url: secure.url }, 'config', /untrusted certificate/);
  });

  it('a host name mismatch is a config error that says so', async () => {
    await failsEachTime(
      { url: secure.url, tls: { ca, serverName: 'elsewhere.example' } },
      'config',
      /host name mismatch/,
    );
  });

  it('plaintext to a TLS port is a config error that says so', async () => {
    const plaintext = new URL(secure.url);
    plaintext.protocol = 'redis:';
    await failsEachTime(
      { url: plaintext.toString(), password: new Redacted(password) },
      'config',
      /plaintext to a TLS port/,
    );
  });

  it('TLS to a plaintext port is a config error that says so', async () => {
    const tlsToPlain = new URL(plain.url);
    tlsToPlain.protocol = 'rediss:';
    // Redis waits for a line that a TLS hello never ends: the connect timeout bounds the handshake.
    await failsEachTime(
      { url: tlsToPlain.toString(), tls: { ca }, connectTimeoutMs: 1_000 },
      'config',
      /TLS to a plaintext port/,
    );
  });

  it('TLS settings with a redis:// URL are refused before connecting, never sent in plaintext', () => {
    const plaintext = new URL(secure.url);
    plaintext.protocol = 'redis:';
    assert.throws(
      () => createRedisCache({ url: plaintext.toString(), tls: { ca } }),
      (error: unknown) =>
        isInfraError(error) &&
        error.reason === 'config' &&
        /tls: is set but the URL is redis:\/\/ \(plaintext\)/.test(error.message),
    );
  });
});
