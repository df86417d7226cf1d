// berth as a user installs it: the packed tarball in an empty app, with only what npm installs for
// a user. The rest of the suite runs inside the repository, where every devDependency is there.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  dependencyClosure,
  extendApp,
  installApp,
  listFiles,
  makeTempFolder,
  packBerth,
  readManifest,
  repoRoot,
  runInApp,
  staticPackageImports,
  type Manifest,
} from '../support/packed-app.ts';

const run = promisify(execFile);
const manifest: Manifest = await readManifest();
const subpaths = Object.keys(manifest.exports).filter((key) => key !== './package.json');
const specifierOf = (subpath: string): string => (subpath === '.' ? 'berth' : `berth/${subpath.slice(2)}`);
const entryOf = (subpath: string): string => {
  const target = manifest.exports[subpath];
  return path.join(repoRoot, typeof target === 'string' ? target : (target?.default as string));
};

// Counts the modules an import loads, and its time and memory, in a fresh process.
const importCost = (specifier: string): string => `
import { registerHooks } from 'node:module';
const urls = new Set();
registerHooks({ load(url, context, next) { urls.add(url); return next(url, context); } });
const started = performance.now();
await import(${JSON.stringify(specifier)});
const ms = performance.now() - started;
const packageOf = (url) => {
  const parts = url.split('/node_modules/').pop().split('/');
  return parts[0].startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
};
const packages = new Set([...urls].filter((url) => url.includes('/node_modules/')).map(packageOf));
console.log(JSON.stringify({ modules: urls.size, ms, rssMb: process.memoryUsage().rss / 2 ** 20, packages: [...packages] }));
`;

describe('berth as a user installs it: npm pack, the tarball in an empty app', () => {
  let temp: { folder: string; remove: () => Promise<void> };
  let tarball: string;
  let base: string;

  before(async () => {
    temp = await makeTempFolder('berth-pack-');
    tarball = await packBerth(temp.folder);
    base = await installApp(path.join(temp.folder, 'app'), tarball);
  });
  after(async () => {
    await temp?.remove();
  });

  it('ships the built package, its licence and readme, and no test files', async () => {
    const files = await listFiles(path.join(base, 'node_modules/berth'));
    for (const expected of ['package.json', 'LICENSE', 'README.md', 'dist/index.js', 'dist/index.d.ts'])
      assert.ok(files.includes(expected), `${expected} is in the tarball`);
    for (const subpath of subpaths) {
      const entry = path.relative(repoRoot, entryOf(subpath));
      assert.ok(files.includes(entry), `${subpath} resolves to ${entry}, which is in the tarball`);
    }
    assert.deepEqual(
      files.filter((file) => file.endsWith('.test.ts')),
      [],
    );
  });

  it('installs only its dependencies: no optional peer and no devDependency comes along', async () => {
    const installed = new Set(
      (await listFiles(path.join(base, 'node_modules')))
        .filter((file) => /^(@[^/]+\/)?[^/@][^/]*\/package\.json$/.test(file))
        .map((file) => path.dirname(file)),
    );
    const closure = await dependencyClosure(base, ['berth']);
    assert.deepEqual([...installed].filter((name) => !closure.has(name)).sort(), []);
    for (const peer of Object.keys(manifest.peerDependencies))
      if (!closure.has(peer)) assert.ok(!installed.has(peer), `${peer} is not installed`);
  });

  it('every export imports only dependencies and its own optional peers, never a devDependency', async () => {
    const allowed = new Set([
      ...Object.keys(manifest.dependencies),
      ...Object.keys(manifest.peerDependencies),
    ]);
    for (const subpath of subpaths) {
      const imported = await staticPackageImports(entryOf(subpath));
      const stray = [...imported].filter((name) => !allowed.has(name));
      assert.deepEqual(stray, [], `${subpath} imports packages npm does not install for a user`);
      for (const name of imported) {
        if (name in manifest.peerDependencies)
          assert.equal(manifest.peerDependenciesMeta[name]?.optional, true, `${name} is an optional peer`);
      }
    }
  });

  it('imports every export with only its own SDK present', async (t) => {
    for (const [index, subpath] of subpaths.entries()) {
      const peers = [...(await staticPackageImports(entryOf(subpath)))].filter(
        (name) => name in manifest.peerDependencies,
      );
      const app =
        peers.length === 0
          ? base
          : await extendApp(
              base,
              path.join(temp.folder, `app-${index}`),
              peers.map((name) => `${name}@${manifest.peerDependencies[name]}`),
            );
      const result = await runInApp(app, 'import-cost.mjs', importCost(specifierOf(subpath)));
      assert.equal(
        result.code,
        0,
        `import('${specifierOf(subpath)}') with ${peers.join(', ') || 'no SDK'}: ${result.stderr}`,
      );
      const cost = JSON.parse(result.stdout) as {
        modules: number;
        ms: number;
        rssMb: number;
        packages: string[];
      };
      t.diagnostic(
        `${specifierOf(subpath)}: ${cost.modules} modules, ${cost.ms.toFixed(0)} ms, ${cost.rssMb.toFixed(0)} MB (${cost.packages.sort().join(', ')})`,
      );
      if (subpath === '.' || subpath === './memory' || subpath === './testing') {
        const closure = await dependencyClosure(base, ['berth']);
        const outside = cost.packages.filter((name) => !closure.has(name));
        assert.deepEqual(outside, [], `${specifierOf(subpath)} loads only berth's dependencies`);
      }
    }
  });

  it("runs the README's wiring example on memory drivers and stops on SIGTERM", async () => {
    const readme = await readFile(path.join(repoRoot, 'README.md'), 'utf8');
    const wiring = readme.slice(readme.indexOf('## Wiring'));
    const example = /```ts\n([\s\S]*?)```/.exec(wiring)?.[1];
    assert.ok(
      example !== undefined && example.includes('createInfrastructure'),
      'the README has a wiring example',
    );
    const source = `${example.replace('.listen(3000,', '.listen(0,')}
if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
const { port } = server.address() as { port: number };
await infra.cache.set('greeting', { hello: 'world' });
const readyz = await fetch(\`http://127.0.0.1:\${port}/readyz\`);
console.log(JSON.stringify({ readyz: readyz.status, cached: await infra.cache.get('greeting') }));
process.kill(process.pid, 'SIGTERM');
`;
    const result = await runInApp(base, 'wiring.ts', source, {
      env: {
        CACHE_DRIVER: 'memory',
        BROKER_DRIVER: 'memory',
        DOCUMENT_STORE_DRIVER: 'memory',
        LOG_LEVEL: 'warn',
      },
    });
    assert.equal(result.code, 0, result.stderr);
    const line = result.stdout.split('\n').find((text) => text.startsWith('{"readyz"'));
    assert.deepEqual(JSON.parse(line ?? '{}'), { readyz: 200, cached: { hello: 'world' } });

    // The same example type-checks against the shipped declarations, library checks on.
    await writeFile(
      path.join(base, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2023',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          allowImportingTsExtensions: true,
          types: ['node'],
          typeRoots: [path.join(repoRoot, 'node_modules/@types')],
        },
        files: ['wiring.ts'],
      }),
    );
    const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');
    await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: base }).catch(
      (error: { stdout?: string; message: string }) => {
        assert.fail(
          `the wiring example does not type-check against the tarball:\n${error.stdout ?? error.message}`,
        );
      },
    );
  });

  it('a driver whose SDK is absent is a ConfigError naming the variable and the package to install', async () => {
    const result = await runInApp(
      base,
      'missing-sdk.mjs',
      `import { createInfrastructure, loadConfig } from 'berth';
try {
  await createInfrastructure(await loadConfig({ BROKER_DRIVER: 'kafka', KAFKA_BROKERS: '127.0.0.1:9' }));
  console.log('built');
} catch (error) {
  console.log(JSON.stringify({ name: error.name, reason: error.reason, message: error.message }));
}`,
    );
    assert.equal(result.code, 0, result.stderr);
    const error = JSON.parse(result.stdout) as { name: string; reason: string; message: string };
    assert.equal(error.name, 'ConfigError');
    assert.equal(error.reason, 'config');
    assert.match(error.message, /BROKER_DRIVER/);
    assert.match(error.message, new RegExp(`kafkajs@"?\\${manifest.peerDependencies.kafkajs}`));
  });

  it('runs the outbox, its relay and the inbox on the embedded database and the memory broker', async () => {
    const app = await extendApp(base, path.join(temp.folder, 'app-outbox'), [
      `@electric-sql/pglite@${manifest.peerDependencies['@electric-sql/pglite']}`,
    ]);
    const result = await runInApp(
      app,
      'outbox.mjs',
      `import { createInbox, createOutbox, createOutboxRelay, sql } from 'berth';
import { createEmbeddedDatabase } from 'berth/embedded';
import { createMemoryBroker } from 'berth/memory';
const database = createEmbeddedDatabase();
await database.start();
const outbox = createOutbox({ sql: database });
const inbox = createInbox({ sql: database });
await database.migrate([...outbox.migrations, ...inbox.migrations, { id: 'effects', sql: 'CREATE TABLE effects (id text)' }]);
const broker = createMemoryBroker();
const relay = createOutboxRelay({ outbox, broker });
await relay.start();
const subscription = broker.subscribe('events', inbox.handler('counter', (message, tx) =>
  tx.execute(sql\`INSERT INTO effects (id) VALUES (\${message.id})\`)), { group: 'g', fromBeginning: true });
await subscription.ready;
await outbox.transaction((tx) => tx.publish('events', [{ key: 'a', value: 1 }, { key: 'b', value: 2 }]));
await outbox.transaction(async (tx) => { await tx.publish('events', { value: 3 }); throw new Error('rolled back'); }).catch(() => {});
const started = Date.now();
let effects = 0;
while (effects < 2 && Date.now() - started < 10000) {
  await new Promise((resolve) => setTimeout(resolve, 20));
  effects = Number((await database.query(sql\`SELECT COUNT(*) AS n FROM effects\`))[0].n);
}
await new Promise((resolve) => setTimeout(resolve, 200));
effects = Number((await database.query(sql\`SELECT COUNT(*) AS n FROM effects\`))[0].n);
console.log(JSON.stringify({ effects, relay: (await relay.health()).status }));
await relay.close();
await broker.close();
await database.close();`,
    );
    assert.equal(result.code, 0, result.stderr);
    const line = result.stdout.split('\n').find((text) => text.startsWith('{"effects"'));
    assert.deepEqual(JSON.parse(line ?? '{}'), { effects: 2, relay: 'up' });
  });

  it('refuses to load on a Node older than engines allows, naming the version it needs', async () => {
    const minimum = /(\d+)/.exec(manifest.engines.node)?.[1] as string;
    const older = `${Number(minimum) - 2}.0.0`;
    // Node's own version, as an older one reports it, before berth loads.
    await writeFile(
      path.join(base, 'older-node.mjs'),
      `Object.defineProperty(process.versions, 'node', { value: '${older}' });`,
    );
    const result = await runInApp(
      base,
      'old-node.mjs',
      `import('berth').then(() => console.log('loaded'));`,
      {
        env: { NODE_OPTIONS: '--import ./older-node.mjs' },
      },
    );
    assert.notEqual(result.code, 0);
    assert.match(
      result.stderr,
      new RegExp(`needs Node\\.js ${minimum} or newer.*this is Node\\.js ${older}`),
    );
  });
});
