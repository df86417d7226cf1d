import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  backendDescriptors,
  backendFolders,
  backendPage,
  blocksOf,
  docsDir,
  generatedDocs,
  markdownFiles,
  readmePath,
  repoRoot,
  startOf,
} from '../../scripts/env-table.ts';
import { builtinAdapters } from '../../src/config/builtin-adapters.ts';
import { backendEnvironmentTable, packagesTable, portEnvironmentTable } from '../../src/config/env-table.ts';
import { portNames, ports, portVariables } from '../../src/config/ports.ts';
import { defineAdapter } from '../../src/runtime/adapter-descriptor.ts';

const { peerDependencies } = JSON.parse(
  fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { peerDependencies: Record<string, string> };
const relative = (file: string): string => path.relative(repoRoot, file);
const read = (file: string): string => fs.readFileSync(file, 'utf8');

describe('the generated blocks of README.md and docs/', () => {
  it('hold what the descriptors give (npm run docs:env rewrites them)', async () => {
    const generated = await generatedDocs();
    assert.ok(generated.length > 1, 'README.md and docs/ have generated blocks');
    for (const { file, text, expected } of generated) {
      const now = blocksOf(text, file);
      const then = blocksOf(expected, file);
      for (const [index, block] of now.entries())
        assert.equal(
          block.content,
          then[index]!.content,
          `${relative(file)}: ${startOf(block.kind, block.scope)} is stale: run npm run docs:env`,
        );
    }
  });

  it('name every variable loadConfig reads, in a table row', () => {
    const rows = new Set<string>();
    for (const file of markdownFiles())
      for (const block of blocksOf(read(file), file))
        for (const match of block.content.matchAll(/^\| `([A-Z0-9_]+)` +\|/gm)) rows.add(match[1]!);
    for (const port of portNames) {
      assert.ok(rows.has(`${ports[port].envPrefix}_DRIVER`), `${ports[port].envPrefix}_DRIVER`);
      for (const variable of Object.keys(portVariables(port))) assert.ok(rows.has(variable), variable);
    }
    for (const adapter of builtinAdapters)
      for (const variable of Object.keys(adapter.env))
        assert.ok(rows.has(variable), `${variable} of ${adapter.port}:${adapter.driver}`);
  });

  it('list, in the README, every driver with packages, with package.json’s ranges', () => {
    const readme = read(readmePath);
    const block = blocksOf(readme).find((found) => found.kind === 'driver-packages' && found.scope === '');
    assert.ok(block, `README.md has ${startOf('driver-packages')}`);
    for (const adapter of builtinAdapters)
      for (const name of adapter.packages ?? [])
        assert.ok(
          block.content.includes(`${name}@"${peerDependencies[name]}"`),
          `${adapter.driver}: ${name}@"${peerDependencies[name]}"`,
        );
  });
});

describe('one documentation page per backend folder and per port', () => {
  // Every folder of src/adapters but shared is a backend.
  const folders = fs
    .readdirSync(path.join(repoRoot, 'src', 'adapters'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== 'shared')
    .map((entry) => entry.name)
    .sort();

  it('finds the backends the generator writes for', () => {
    assert.deepEqual(backendFolders(), folders);
  });

  it('docs/backends/<folder>.md for each, with its variables and, when it has an SDK, its install', async () => {
    const descriptors = await backendDescriptors();
    for (const backend of folders) {
      const page = backendPage(backend);
      assert.ok(fs.existsSync(page), `${relative(page)} documents src/adapters/${backend}`);
      const blocks = blocksOf(read(page), page);
      assert.ok(
        blocks.some((block) => block.kind === 'env-table' && block.scope === `backend ${backend}`),
        `${relative(page)} has ${startOf('env-table', `backend ${backend}`)}`,
      );
      assert.ok(
        (descriptors.get(backend) ?? []).length > 0,
        `src/adapters/${backend}/descriptors.ts declares adapters`,
      );
      if ((descriptors.get(backend) ?? []).some((adapter) => (adapter.packages ?? []).length > 0))
        assert.ok(
          blocks.some((block) => block.kind === 'driver-packages' && block.scope === `backend ${backend}`),
          `${relative(page)} has ${startOf('driver-packages', `backend ${backend}`)}`,
        );
    }
  });

  it('no page under docs/backends for a folder that is not there', () => {
    const pages = fs
      .readdirSync(path.join(docsDir, 'backends'))
      .filter((name) => name.endsWith('.md'))
      .map((name) => name.slice(0, -'.md'.length))
      .sort();
    assert.deepEqual(pages, folders);
  });

  it("the README's table of backends has a row for each, linking its page, naming its packages", async () => {
    const readme = read(readmePath);
    const section = readme.slice(
      readme.indexOf('\n## Backends\n'),
      readme.indexOf('\n## ', readme.indexOf('\n## Backends\n') + 1),
    );
    const descriptors = await backendDescriptors();
    for (const backend of folders) {
      const row = section
        .split('\n')
        .find((line) => line.startsWith(`| [${backend}](docs/backends/${backend}.md) `));
      assert.ok(row, `README.md's Backends table has a row for ${backend}`);
      for (const adapter of descriptors.get(backend) ?? [])
        for (const name of adapter.packages ?? [])
          assert.ok(row.includes(`\`${name}\``), `${backend}: ${name}`);
    }
  });

  it('a page under docs/ports holds each port’s own variables', () => {
    for (const port of portNames) {
      const pages = markdownFiles().filter((file) =>
        blocksOf(read(file), file).some(
          (block) => block.kind === 'env-table' && block.scope === `port ${port}`,
        ),
      );
      assert.equal(pages.length, 1, `one page has ${startOf('env-table', `port ${port}`)}`);
      assert.equal(path.dirname(pages[0]!), path.join(docsDir, 'ports'), `${port}: ${relative(pages[0]!)}`);
    }
  });
});

describe('the tables, made from descriptors', () => {
  const redis = builtinAdapters.filter((adapter) => adapter.driver === 'redis');

  it('packages: one row a driver, its ports together', () => {
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

  it('a backend: the driver each port picks, a variable two ports read alike once, links to the ports', () => {
    const lines = backendEnvironmentTable(redis, { port: (port) => `../ports/${port}.md` }).split('\n');
    assert.ok(lines.includes('| `CACHE_DRIVER` | cache | redis | `driver` | `redis` picks this driver |'));
    assert.ok(lines.includes('| `BROKER_DRIVER` | broker | redis | `driver` | `redis` picks this driver |'));
    assert.equal(lines.filter((line) => line.startsWith('| `REDIS_URL` ')).length, 1);
    assert.ok(lines.some((line) => line.startsWith('| `REDIS_URL` | cache, broker | redis | `url` |')));
    assert.ok(lines.some((line) => line.startsWith('| `REDIS_KEY_PREFIX` | cache | redis |')));
    assert.ok(lines.some((line) => line.includes('[`CACHE_*`](../ports/cache.md#environment-variables)')));
  });

  it('a port: its drivers linked to their pages, its deadline, budget and own variables', () => {
    const table = portEnvironmentTable('sql', builtinAdapters, {
      backend: (adapter) => `../backends/${adapter.driver}.md`,
    });
    const lines = table.split('\n');
    assert.match(
      lines[2]!,
      /^\| `SQL_DRIVER` \| `driver` \| one of \[embedded\]\(\.\.\/backends\/embedded\.md\), /,
    );
    for (const variable of ['SQL_TIMEOUT_MS', 'SQL_TOTAL_TIMEOUT_MS', 'SQL_MIGRATIONS_DIR'])
      assert.ok(
        lines.some((line) => line.startsWith(`| \`${variable}\` |`)),
        variable,
      );
    assert.ok(!table.includes('POSTGRES_URL'), "a driver's own variables are on its backend's page");
  });

  it('escapes what a cell would misread', () => {
    const table = backendEnvironmentTable([
      defineAdapter({
        port: 'cache',
        driver: 'map',
        options: builtinAdapters[0]!.options,
        env: { MAP_URL: { option: 'url', description: 'https://<host>/*.map or a|b' } },
        create: () => Promise.reject(new Error('not built here')) as never,
      }),
    ]);
    assert.ok(table.includes('| https://\\<host>/\\*.map or a\\|b |'), table);
  });
});
