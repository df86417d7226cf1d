import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { packagesEnd, packagesStart, readmePath, readmeWithTable } from '../../scripts/env-table.ts';
import { builtinAdapters } from '../../src/config/builtin-adapters.ts';
import { packagesTable } from '../../src/config/env-table.ts';
import { defineAdapter } from '../../src/runtime/adapter-descriptor.ts';

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

describe("the README's table of packages to install per driver", () => {
  const readme = fs.readFileSync(readmePath, 'utf8');
  const { peerDependencies } = JSON.parse(
    fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
  ) as { peerDependencies: Record<string, string> };

  it('lists every driver with packages, with package.json’s ranges, between its markers', () => {
    const from = readme.indexOf(packagesStart);
    const to = readme.indexOf(packagesEnd);
    assert.ok(from >= 0 && to > from, 'README.md has the driver-packages markers (npm run docs:env)');
    const section = readme.slice(from, to);
    for (const adapter of builtinAdapters)
      for (const name of adapter.packages ?? [])
        assert.ok(
          section.includes(`${name}@"${peerDependencies[name]}"`),
          `${adapter.driver}: ${name}@"${peerDependencies[name]}"`,
        );
  });

  it('is made from the descriptors: one row a driver, its ports together', () => {
    const table = packagesTable([
      ...builtinAdapters.filter((adapter) => adapter.driver === 'redis' || adapter.driver === 'memory'),
      defineAdapter({
        port: 'cache',
        driver: 'map',
        options: builtinAdapters[0]!.options,
        env: {},
        packages: ['left-pad'],
        create: () => Promise.reject(new Error('not built here')) as never,
      }),
    ]);
    assert.deepEqual(table.split('\n'), [
      '| driver | ports | install |',
      '|---|---|---|',
      `| \`redis\` | cache, broker | \`npm install redis@"${peerDependencies.redis}"\` |`,
      '| `map` | cache | `npm install left-pad` |',
    ]);
  });
});
