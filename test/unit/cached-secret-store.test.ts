import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { createMemoryCache, createMemorySecretStore } from '../../src/adapters/memory/index.ts';
import { ConfigError, InfraError, type ErrorReason, type SecretStore } from '../../src/ports/index.ts';
import { cachedSecretStore } from '../../src/runtime/index.ts';
import { rejectsWith } from '../../src/testing/infra-assertions.ts';
import { silentRuntime } from '../support/runtime.ts';

/** A memory store that counts reads and fails them with `failWith` while it is set. */
function flakyStore(secrets: Record<string, string>) {
  const inner = createMemorySecretStore({ secrets }, silentRuntime());
  const state = { reads: 0, failWith: undefined as ErrorReason | undefined };
  const store: SecretStore = {
    ...inner,
    id: inner.id,
    capabilities: inner.capabilities,
    get(name, options) {
      state.reads++;
      if (state.failWith)
        return Promise.reject(new InfraError(state.failWith, `store says ${state.failWith}`));
      return inner.get(name, options);
    },
    health: () =>
      Promise.resolve(state.failWith ? { status: 'down', error: 'store is failing' } : { status: 'up' }),
    close: () => inner.close(),
  };
  return { store, inner, state };
}

const key = () => randomBytes(32);

describe('cachedSecretStore', () => {
  it('serves from memory within the TTL and asks the store again after it', async (t) => {
    t.mock.timers.enable({ apis: ['Date'] }); // entries age by Date.now: the test moves it
    const { store, state } = flakyStore({ token: 'one' });
    const cached = cachedSecretStore(store, { ttlMs: 300, refreshAhead: 0 }, silentRuntime());
    assert.equal((await cached.get('token')).value.reveal(), 'one');
    assert.equal((await cached.get('token')).value.reveal(), 'one');
    assert.equal(state.reads, 1);
    t.mock.timers.tick(299);
    await cached.get('token');
    assert.equal(state.reads, 1);
    t.mock.timers.tick(1);
    await cached.get('token');
    assert.equal(state.reads, 2);
  });

  it('fetches a name once however many callers wait for it', async () => {
    const { store, state } = flakyStore({ token: 'one' });
    const cached = cachedSecretStore(store, {}, silentRuntime());
    const values = await Promise.all(Array.from({ length: 100 }, () => cached.get('token')));
    assert.equal(state.reads, 1);
    assert.ok(values.every((secret) => secret.value.reveal() === 'one'));
  });

  it('refreshes ahead of expiry in the background, serving the current value meanwhile', async (t) => {
    t.mock.timers.enable({ apis: ['Date'] });
    const { store, inner, state } = flakyStore({ token: 'one' });
    const cached = cachedSecretStore(store, { ttlMs: 1_000, refreshAhead: 0.5 }, silentRuntime());
    await cached.get('token');
    await inner.set('token', 'two');
    t.mock.timers.tick(780); // past any jittered refresh point (500–750 ms), before expiry (1,000 ms)
    assert.equal((await cached.get('token')).value.reveal(), 'one');
    // The refresh runs in the background: wait for its value, however slow the machine.
    const started = performance.now();
    while ((await cached.get('token')).value.reveal() !== 'two') {
      assert.ok(performance.now() - started < 5_000, 'the refreshed value is served');
      await sleep(5);
    }
    assert.equal(state.reads, 2, 'one refresh, and the refreshed value is served from memory');
  });

  it('serves the last good value while the store fails, within maxStaleMs, and says degraded', async (t) => {
    t.mock.timers.enable({ apis: ['Date'] });
    const { store, state } = flakyStore({ token: 'one' });
    const cached = cachedSecretStore(store, { ttlMs: 100, maxStaleMs: 400 }, silentRuntime());
    await cached.get('token');
    state.failWith = 'unavailable';
    t.mock.timers.tick(150);
    assert.equal((await cached.get('token')).value.reveal(), 'one');
    assert.equal((await cached.health()).status, 'degraded');
    t.mock.timers.tick(400);
    await rejectsWith(cached.get('token'), 'unavailable');
    assert.equal((await cached.health()).status, 'down');
    state.failWith = undefined;
    assert.equal((await cached.get('token')).value.reveal(), 'one');
    assert.equal((await cached.health()).status, 'up');
  });

  it('does not hide a missing secret behind a stale value', async () => {
    const { store, state } = flakyStore({ token: 'one' });
    const cached = cachedSecretStore(store, { ttlMs: 50, maxStaleMs: 10_000 }, silentRuntime());
    await cached.get('token');
    state.failWith = 'not_found';
    await sleep(80);
    await rejectsWith(cached.get('token'), 'not_found');
    state.failWith = 'unavailable';
    await rejectsWith(cached.get('token'), 'unavailable'); // the entry went with the not_found
  });

  it('forgets a name on invalidate, set and delete', async () => {
    const { store, inner, state } = flakyStore({ token: 'one' });
    const cached = cachedSecretStore(store, {}, silentRuntime());
    await cached.get('token');
    await inner.set('token', 'two');
    await cached.invalidate('token');
    assert.equal((await cached.get('token')).value.reveal(), 'two');
    await cached.set('token', 'three');
    assert.equal((await cached.get('token')).value.reveal(), 'three');
    await cached.invalidate();
    await cached.get('token');
    assert.equal(state.reads, 4);
    assert.equal(await cached.delete('token'), true);
    await rejectsWith(cached.get('token'), 'not_found');
  });

  describe('with a shared cache', () => {
    it('shares values between instances as AES-256-GCM ciphertext only', async () => {
      const sharedCache = createMemoryCache({}, silentRuntime());
      const encryptionKey = key();
      const value = `plain-${randomBytes(8).toString('hex')}`;
      const { store, state } = flakyStore({ token: value });
      const first = cachedSecretStore(store, { cache: sharedCache, encryptionKey }, silentRuntime());
      const second = cachedSecretStore(store, { cache: sharedCache, encryptionKey }, silentRuntime());
      assert.equal((await first.get('token')).value.reveal(), value);
      assert.equal((await second.get('token')).value.reveal(), value);
      assert.equal(state.reads, 1);

      const sealed = await sharedCache.get<string>('secret:token');
      assert.equal(typeof sealed, 'string');
      assert.ok(!sealed!.includes(value));
      assert.ok(!Buffer.from(sealed!.split('.')[2]!, 'base64url').toString('latin1').includes(value));
    });

    it('ignores entries sealed under another key or moved to another name', async () => {
      const sharedCache = createMemoryCache({}, silentRuntime());
      const { store, state } = flakyStore({ a: 'value-a', b: 'value-b' });
      const writer = cachedSecretStore(store, { cache: sharedCache, encryptionKey: key() }, silentRuntime());
      await writer.get('a');
      const other = cachedSecretStore(store, { cache: sharedCache, encryptionKey: key() }, silentRuntime());
      assert.equal((await other.get('a')).value.reveal(), 'value-a');
      assert.equal(state.reads, 2); // the sealed entry did not open: the store was asked

      const encryptionKey = key();
      const sealer = cachedSecretStore(store, { cache: sharedCache, encryptionKey }, silentRuntime());
      await sealer.get('a');
      await sharedCache.set('secret:b', await sharedCache.get('secret:a'));
      const reader = cachedSecretStore(store, { cache: sharedCache, encryptionKey }, silentRuntime());
      assert.equal((await reader.get('b')).value.reveal(), 'value-b');
    });

    it('refuses a cache without a 32-byte key, naming the option, not the key', () => {
      const sharedCache = createMemoryCache({}, silentRuntime());
      const { store } = flakyStore({});
      assert.throws(
        () => cachedSecretStore(store, { cache: sharedCache }, silentRuntime()),
        (error: unknown) => error instanceof ConfigError && error.issues[0]?.path === 'encryptionKey',
      );
      const short = Buffer.from('short-key-0123456789');
      assert.throws(
        () => cachedSecretStore(store, { cache: sharedCache, encryptionKey: short }, silentRuntime()),
        (error: unknown) =>
          error instanceof ConfigError &&
          /32 bytes/.test(error.message) &&
          !error.message.includes('short-key'),
      );
    });
  });
});
