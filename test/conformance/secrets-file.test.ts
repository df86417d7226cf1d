import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { createFileSecretStore } from '../../src/adapters/file/index.ts';
import { secretStoreConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-file-secrets-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

secretStoreConformance({
  name: 'file (Kubernetes layout)',
  write: false,
  create: (secrets) => {
    // As the kubelet writes a Secret volume: files in a timestamped folder, `..data` linking to
    // it, and one link per key through `..data`.
    const directory = fs.mkdtempSync(path.join(root, 'volume-'));
    const payload = path.join(directory, '..2026_11_22_00_00_00.000000001');
    fs.mkdirSync(payload);
    for (const [name, value] of Object.entries(secrets))
      fs.writeFileSync(path.join(payload, name), `${value}\n`);
    fs.symlinkSync(path.basename(payload), path.join(directory, '..data'));
    for (const name of Object.keys(secrets))
      fs.symlinkSync(path.join('..data', name), path.join(directory, name));
    return createFileSecretStore({ directory }, silentRuntime());
  },
});
