// The built-in adapter list is kept by hand (an ES module cannot list a folder without I/O at
// import), so this test derives it from the backend folders and fails when one is left out.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { AdapterDescriptor } from '../../src/runtime/adapter-descriptor.ts';
import { builtinAdapters } from '../../src/config/builtin-adapters.ts';

const adaptersDir = path.resolve(import.meta.dirname, '../../src/adapters');
const backends = readdirSync(adaptersDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && entry.name !== 'shared')
  .map((entry) => entry.name)
  .sort();

const isDescriptor = (value: unknown): value is AdapterDescriptor =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as AdapterDescriptor).port === 'string' &&
  typeof (value as AdapterDescriptor).driver === 'string' &&
  typeof (value as AdapterDescriptor).create === 'function';

// Every descriptor each backend folder's descriptors.ts exports, and which folder exports it.
const exportedBy = new Map<string, string>();
const exported: AdapterDescriptor[] = [];
for (const backend of backends) {
  const module = (await import(
    pathToFileURL(path.join(adaptersDir, backend, 'descriptors.ts')).href
  )) as Record<string, unknown>;
  for (const d of Object.values(module).filter(isDescriptor)) {
    exported.push(d);
    exportedBy.set(`${d.port}:${d.driver}`, backend);
  }
}

describe('built-in adapters', () => {
  it('lists every descriptor that a backend folder exports, and nothing else', () => {
    for (const backend of backends)
      assert.ok(
        [...exportedBy.values()].includes(backend),
        `src/adapters/${backend}/descriptors.ts exports no descriptor`,
      );
    const key = (d: AdapterDescriptor): string => `${d.port}:${d.driver}`;
    assert.deepEqual(builtinAdapters.map(key).sort(), exported.map(key).sort());
    assert.equal(new Set(builtinAdapters.map(key)).size, builtinAdapters.length, 'each port and driver once');
  });

  it('gives every backend folder the same role files; one over an SDK classifies its errors in errors.ts', () => {
    for (const backend of backends) {
      const overSdk = builtinAdapters.some(
        (d) => (d.packages?.length ?? 0) > 0 && exportedBy.get(`${d.port}:${d.driver}`) === backend,
      );
      const roles = ['index.ts', 'descriptors.ts', 'options.ts', ...(overSdk ? ['errors.ts'] : [])];
      for (const role of roles)
        assert.ok(existsSync(path.join(adaptersDir, backend, role)), `src/adapters/${backend}/${role}`);
    }
  });
});
