// The Azure Key Vault adapter through the real SDK and ClientSecretCredential against berth's
// Key Vault emulator, started in this process so it can fail, stop and come back on cue.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import { createAzureKeyVaultSecretStore } from '../../src/adapters/azure-keyvault/index.ts';
import { ConfigError, isInfraError } from '../../src/ports/index.ts';
import { cachedSecretStore } from '../../src/runtime/index.ts';
import { rejectsWith } from '../../src/testing/infra-assertions.ts';
import { startKeyVaultEmulator, type KeyVaultEmulator } from '../servers/keyvault/server.ts';
import { keyVaultOptions } from '../support/keyvault.ts';
import { capturingRuntime, silentRuntime } from '../support/runtime.ts';

/** Everything an error can show: message, stack, JSON and inspect output with its causes. */
const shown = (error: unknown): string =>
  [String(error), (error as Error).stack, JSON.stringify(error), inspect(error, { depth: 8 })].join('\n');

describe('Azure Key Vault secret store (emulator in process)', () => {
  let vault: KeyVaultEmulator;
  before(async () => {
    vault = await startKeyVaultEmulator();
  });
  after(() => vault.stop());

  const name = () => `kv-${randomBytes(6).toString('hex')}`;

  it('retries a 429 after its Retry-After, once', async () => {
    const runtime = capturingRuntime({ retry: { maxAttempts: 3, initialDelayMs: 10 } });
    const store = createAzureKeyVaultSecretStore(keyVaultOptions(vault), runtime);
    const n = name();
    await store.set(n, 'value');
    vault.failNext(1, { status: 429, headers: { 'retry-after': '1' } });
    const started = performance.now();
    assert.equal((await store.get(n)).value.reveal(), 'value');
    assert.ok(performance.now() - started >= 950, 'waited for Retry-After');
    assert.match(
      await runtime.registry.metrics(),
      /berth_operation_retries_total\{component="secrets:azure_key_vault",operation="get"\} 1/,
    );
    await store.close();
  });

  it('reports a 429 as rate_limited with retryAfterMs when it may not retry', async () => {
    const store = createAzureKeyVaultSecretStore(
      keyVaultOptions(vault),
      silentRuntime({ retry: { maxAttempts: 1 } }),
    );
    vault.failNext(1, { status: 429, headers: { 'retry-after': '7' } });
    const error = await rejectsWith(store.get(name()), 'rate_limited');
    assert.equal(error.retryAfterMs, 7000);
    await store.close();
  });

  it('bounds the wait for a token: a hung credential is a timeout', async () => {
    const hung = { getToken: () => new Promise<never>(() => {}) };
    const store = createAzureKeyVaultSecretStore(
      keyVaultOptions(vault, { credential: hung, tokenTimeoutMs: 200 }),
      silentRuntime({ timeoutMs: 5_000, retry: { maxAttempts: 1 } }),
    );
    const started = performance.now();
    const error = await rejectsWith(store.get(name()), 'timeout');
    assert.ok(performance.now() - started < 2_000, `took ${performance.now() - started} ms`);
    assert.match(error.message, /no token from the credential within 200 ms/);
    await store.close();
  });

  it('says unauthorized for a wrong client secret, without the secret anywhere', async () => {
    const runtime = capturingRuntime();
    const wrong = `wrong-${randomBytes(12).toString('hex')}`;
    const store = createAzureKeyVaultSecretStore(keyVaultOptions({ ...vault, clientSecret: wrong }), runtime);
    const error = await rejectsWith(store.get(name()), 'unauthorized');
    assert.equal(error.retryable, false);
    const health = await store.health();
    assert.equal(health.status, 'down');
    const everything = `${shown(error)}${runtime.logs()}${JSON.stringify(health)}${await runtime.registry.metrics()}`;
    assert.ok(!everything.includes(wrong), 'client secret leaked');
    assert.ok(!everything.includes(vault.clientSecret), 'the real client secret leaked');
    await store.close();
  });

  it('keeps a value the server echoes in its refusal out of errors and logs', async () => {
    const runtime = capturingRuntime({ retry: { maxAttempts: 1 } });
    const store = createAzureKeyVaultSecretStore(keyVaultOptions(vault), runtime);
    const value = `echoed-${randomBytes(12).toString('hex')}`;
    vault.failNext(1, {
      status: 400,
      body: { error: { code: 'BadParameter', message: `The value ${value} is not allowed` } },
    });
    const error = await rejectsWith(store.set(name(), value), 'validation');
    assert.match(error.message, /HTTP 400 \(BadParameter\)/);
    assert.ok(!`${shown(error)}${runtime.logs()}`.includes(value), 'value leaked');
    await store.close();
  });

  it('refuses bad options naming each, before any I/O', () => {
    assert.throws(
      () =>
        createAzureKeyVaultSecretStore(
          { vaultUrl: 'http://admin:hunter2@vault.example', tokenTimeoutMs: -1 },
          silentRuntime(),
        ),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.issues.map((issue) => issue.path).join() === 'vaultUrl,tokenTimeoutMs' &&
        !error.message.includes('hunter2'),
    );
  });

  it('is unavailable while the vault is down, with health down, and works again when it returns', async () => {
    const store = createAzureKeyVaultSecretStore(
      keyVaultOptions(vault),
      silentRuntime({ retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 100 } }),
    );
    const n = name();
    await store.set(n, 'value');
    await vault.stop();
    try {
      await rejectsWith(store.get(n), 'unavailable');
      assert.equal((await store.health()).status, 'down');
    } finally {
      await vault.start();
    }
    assert.equal((await store.get(n)).value.reveal(), 'value');
    assert.equal((await store.health()).status, 'up');
    await store.close();
  });

  it('cachedSecretStore serves the last good value through an outage, within its bound, degraded', async () => {
    const kv = createAzureKeyVaultSecretStore(
      keyVaultOptions(vault),
      silentRuntime({ retry: { maxAttempts: 1 }, breaker: { halfOpenAfterMs: 100 } }),
    );
    const store = cachedSecretStore(kv, { ttlMs: 200, maxStaleMs: 1_500 }, silentRuntime());
    const n = name();
    await kv.set(n, 'last-good');
    assert.equal((await store.get(n)).value.reveal(), 'last-good');
    await vault.stop();
    try {
      await sleep(300); // past the TTL: every read now tries the vault
      for (let i = 0; i < 8; i++) assert.equal((await store.get(n)).value.reveal(), 'last-good');
      const health = await store.health();
      assert.equal(health.status, 'degraded');
      assert.equal(health.details?.['servingStale'], 1);
      await sleep(1_500); // past TTL + maxStaleMs
      await assert.rejects(
        store.get(n),
        (error: unknown) => isInfraError(error) && ['unavailable', 'circuit_open'].includes(error.reason),
      );
      assert.equal((await store.health()).status, 'down');
    } finally {
      await vault.start();
    }
    await sleep(150); // the breaker half-opens
    await kv.set(n, 'rotated');
    assert.equal((await store.get(n)).value.reveal(), 'rotated');
    assert.equal((await store.health()).status, 'up');
    await store.close();
  });
});
