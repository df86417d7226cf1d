import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMongoDocumentStore } from '../../src/adapters/mongodb/index.ts';
import { isInfraError } from '../../src/ports/index.ts';
import { silentRuntime } from '../support/runtime.ts';

// Nothing listens on port 1, so every call fails at server selection.
const unreachable = 'mongodb://berth:s3cret-password@127.0.0.1:1/';

describe('mongodb document store without a server', () => {
  it('fails fast as unavailable, with the password redacted', async () => {
    const store = createMongoDocumentStore(
      { url: unreachable, database: 'berth', serverSelectionTimeoutMs: 200 },
      // A deadline longer than the bound below: what ends the call must be server selection.
      silentRuntime({ timeoutMs: 30_000, retry: { maxAttempts: 1 } }),
    );
    try {
      const started = performance.now();
      await assert.rejects(store.collection('items').get('x'), (error: unknown) => {
        assert.ok(isInfraError(error));
        assert.equal(error.reason, 'unavailable', error.message);
        assert.doesNotMatch(error.message, /s3cret/);
        return true;
      });
      // 200 ms of server selection, not the driver's default 30 s; the slack is for a loaded machine.
      const tookMs = performance.now() - started;
      assert.ok(tookMs < 5_000, `should fail at the server selection timeout, took ${tookMs} ms`);
      const health = await store.health();
      assert.equal(health.status, 'down');
      assert.doesNotMatch(JSON.stringify(health), /s3cret/);
    } finally {
      await store.close();
    }
  });

  it('refuses bad options with a ConfigError that names them and never echoes the URL', () => {
    assert.throws(
      () => createMongoDocumentStore({ url: 'http://user:s3cret-password@host/', database: 'a/b' }),
      (error: unknown) => {
        assert.ok(isInfraError(error));
        assert.equal(error.reason, 'config');
        assert.match(error.message, /url/);
        assert.match(error.message, /database/);
        assert.doesNotMatch(error.message, /s3cret/);
        return true;
      },
    );
  });
});
