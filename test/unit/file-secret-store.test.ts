import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createFileSecretStore } from '../../src/adapters/file/index.ts';
import { rejectsWith } from '../../src/testing/infra-assertions.ts';
import { silentRuntime } from '../support/runtime.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-file-store-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** Writes a payload folder and swaps `..data` to it in one rename, as the kubelet does. */
function publish(volume: string, generation: number, secrets: Record<string, string>): void {
  const payload = `..gen_${generation}`;
  fs.mkdirSync(path.join(volume, payload));
  for (const [name, value] of Object.entries(secrets))
    fs.writeFileSync(path.join(volume, payload, name), value);
  fs.symlinkSync(payload, path.join(volume, '..data_tmp'));
  fs.renameSync(path.join(volume, '..data_tmp'), path.join(volume, '..data'));
  for (const name of Object.keys(secrets)) {
    if (!fs.existsSync(path.join(volume, name)))
      fs.symlinkSync(path.join('..data', name), path.join(volume, name));
  }
}

describe('file secret store', () => {
  it('sees a rotated Kubernetes mount at the next read', async () => {
    const volume = fs.mkdtempSync(path.join(root, 'volume-'));
    publish(volume, 1, { token: 'first' });
    const store = createFileSecretStore({ directory: volume }, silentRuntime());
    assert.equal((await store.get('token')).value.reveal(), 'first');
    publish(volume, 2, { token: 'second' });
    assert.equal((await store.get('token')).value.reveal(), 'second');
    assert.deepEqual(await store.list(), ['token']);
    await store.close();
  });

  it('is unavailable and down when its folder is gone, and not_found only for a missing file', async () => {
    const volume = fs.mkdtempSync(path.join(root, 'volume-'));
    fs.writeFileSync(path.join(volume, 'token'), 'value\n');
    const store = createFileSecretStore({ directory: volume }, silentRuntime({ retry: { maxAttempts: 1 } }));
    assert.equal((await store.get('token')).value.reveal(), 'value');
    await rejectsWith(store.get('other'), 'not_found');
    fs.rmSync(volume, { recursive: true });
    await rejectsWith(store.get('token'), 'unavailable');
    await rejectsWith(store.list(), 'unavailable');
    assert.equal((await store.health()).status, 'down');
    await store.close();
  });

  it('keeps a trailing newline when asked to', async () => {
    const volume = fs.mkdtempSync(path.join(root, 'volume-'));
    fs.writeFileSync(path.join(volume, 'pem'), 'line\n');
    const store = createFileSecretStore({ directory: volume, trimTrailingNewline: false }, silentRuntime());
    assert.equal((await store.get('pem')).value.reveal(), 'line\n');
    await store.close();
  });
});
