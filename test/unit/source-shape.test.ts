// Facts about the tree that review would otherwise check by eye (issue #23): small files, runtime
// grouped by concern, configuration in src/config. Circles are lint's (import-x/no-cycle).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const src = path.resolve(import.meta.dirname, '../../src');
const sourceFiles = readdirSync(src, { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
  .map((entry) => path.join(entry.parentPath, entry.name));

describe('the shape of src/', () => {
  it('has no file over 400 lines', () => {
    const long = sourceFiles
      .map((file) => ({
        file: path.relative(src, file),
        lines: readFileSync(file, 'utf8').split('\n').length - 1,
      }))
      .filter(({ lines }) => lines > 400);
    assert.deepEqual(long, []);
  });

  it('keeps runtime/ grouped: at most 8 files beside its folders', () => {
    const loose = readdirSync(path.join(src, 'runtime'), { withFileTypes: true }).filter((entry) =>
      entry.isFile(),
    );
    assert.ok(
      loose.length <= 8,
      `src/runtime has ${loose.length} loose files: ${loose.map((e) => e.name).join(', ')}`,
    );
  });

  it('reads the configuration in src/config, where the composition root is', () => {
    const config = readdirSync(path.join(src, 'config'));
    for (const file of ['load-config.ts', 'infrastructure.ts', 'env-table.ts', 'ports.ts'])
      assert.ok(config.includes(file), `src/config/${file}`);
  });
});
