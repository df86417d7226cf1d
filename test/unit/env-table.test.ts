import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { readmePath, readmeWithTable } from '../../scripts/env-table.ts';
import { builtinAdapters } from '../../src/composition/builtin-adapters.ts';

describe("the README's table of environment variables", () => {
  const readme = fs.readFileSync(readmePath, 'utf8');

  it('is the one the descriptors give (npm run docs:env rewrites it)', async () => {
    assert.equal(readme, await readmeWithTable(readme));
  });

  it('names every variable of every built-in adapter', () => {
    for (const adapter of builtinAdapters)
      for (const variable of Object.keys(adapter.env))
        assert.match(
          readme,
          new RegExp(`^\\| \`${variable}\` +\\|`, 'm'),
          `${adapter.port}:${adapter.driver}`,
        );
  });
});
