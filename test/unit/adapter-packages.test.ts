// Each driver's SDK is an optional peer dependency: declared by its descriptor, ranged by
// package.json, and reported as a ConfigError that says what to install when it is missing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { z } from 'zod';
import { builtinAdapters } from '../../src/config/builtin-adapters.ts';
import { createInfrastructure } from '../../src/config/infrastructure.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { policyOverridesSchema } from '../../src/runtime/options/schema-pieces.ts';
import { ConfigError } from '../../src/ports/errors.ts';
import { createMemoryCache } from '../../src/adapters/memory/index.ts';
import { defineAdapter, installCommand, missingPackageOf } from '../../src/runtime/adapter-descriptor.ts';
import { silentRuntime } from '../support/runtime.ts';

const root = path.join(import.meta.dirname, '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

/** A cache adapter that declares `packages` and whose `create` runs `load` first. */
function adapterImporting(packages: string[], load: () => Promise<unknown>) {
  return defineAdapter({
    port: 'cache',
    driver: 'fake',
    options: z.looseObject({ policies: policyOverridesSchema.optional() }),
    env: {},
    packages,
    create: async (_options, runtime) => {
      await load();
      return createMemoryCache({}, runtime);
    },
  });
}

const notFound = (message: string, code = 'ERR_MODULE_NOT_FOUND'): Error =>
  Object.assign(new Error(message), { code });

describe('driver packages', () => {
  it('every package a descriptor names is an optional peer dependency, and every optional peer is named', () => {
    const claimed = new Set(builtinAdapters.flatMap((adapter) => adapter.packages ?? []));
    for (const name of claimed) {
      assert.ok(manifest.peerDependencies[name], `${name} is not in peerDependencies`);
      assert.equal(manifest.peerDependenciesMeta[name]?.optional, true, `${name} is not an optional peer`);
    }
    // @opentelemetry/api is berth's own optional peer (tracing), not a driver's.
    const optionalPeers = Object.keys(manifest.peerDependencies).filter(
      (name) => manifest.peerDependenciesMeta[name]?.optional === true && name !== '@opentelemetry/api',
    );
    for (const name of optionalPeers) assert.ok(claimed.has(name), `no descriptor names the peer ${name}`);
    // Every SDK is optional: a peer that is not would be installed for every application.
    for (const name of Object.keys(manifest.peerDependencies))
      assert.equal(manifest.peerDependenciesMeta[name]?.optional, true, `${name} is a required peer`);
  });

  it('the install command takes its ranges from package.json', () => {
    assert.equal(installCommand(['kafkajs']), `npm install kafkajs@"${manifest.peerDependencies.kafkajs}"`);
    assert.equal(installCommand(['left-pad']), 'npm install left-pad');
  });

  it('reads the package out of Node’s errors, and nothing else', () => {
    assert.equal(
      missingPackageOf(notFound("Cannot find package 'kafkajs' imported from /a/b.ts")),
      'kafkajs',
    );
    assert.equal(
      missingPackageOf(notFound("Cannot find package '@azure/identity' imported from /a/b.ts")),
      '@azure/identity',
    );
    assert.equal(missingPackageOf(notFound("Cannot find module 'pg/lib/x'", 'MODULE_NOT_FOUND')), 'pg');
    assert.equal(
      missingPackageOf(notFound("Cannot find module '/x/node_modules/pg/lib.js' imported from /a")),
      undefined,
    );
    assert.equal(missingPackageOf(new Error("Cannot find package 'kafkajs'")), undefined, 'no code');
    assert.equal(missingPackageOf(new TypeError('x is not a function')), undefined);
  });

  it('a descriptor’s package that is not installed is a ConfigError naming the port, driver and install', async () => {
    const absent = 'berth-test-absent-sdk';
    const adapters = [adapterImporting([absent], () => import(absent))];
    const typed = await rejection(
      createInfrastructure({ cache: { driver: 'fake' } } as never, silentRuntime(), { adapters }),
    );
    assert.ok(typed instanceof ConfigError, String(typed));
    assert.equal(
      typed.message,
      `Invalid cache "default": driver: fake needs ${absent}, which is not installed: npm install ${absent}`,
    );
    assert.equal((typed.cause as NodeJS.ErrnoException).code, 'ERR_MODULE_NOT_FOUND');

    const fromEnv = await rejection(
      loadConfig({ CACHE_DRIVER: 'fake', CACHE_TIMEOUT_MS: '0' }, { adapters }),
    );
    assert.ok(fromEnv instanceof ConfigError, String(fromEnv));
    assert.deepEqual(fromEnv.issues, [
      { path: 'CACHE_TIMEOUT_MS', message: 'must be a whole number of at least 1' },
      {
        path: 'CACHE_DRIVER',
        message: `fake needs ${absent}, which is not installed: npm install ${absent}`,
      },
    ]);
  });

  it('names the variable when the config came from loadConfig', async () => {
    // zod resolves (loadConfig finds nothing missing); the import fails as if it did not.
    const adapters = [
      adapterImporting(['zod'], () =>
        Promise.reject(notFound("Cannot find package 'zod' imported from /x.ts")),
      ),
    ];
    const config = await loadConfig({ SESSIONS_CACHE_DRIVER: 'fake' }, { adapters });
    const error = await rejection(createInfrastructure(config, silentRuntime(), { adapters }));
    assert.ok(error instanceof ConfigError, String(error));
    assert.deepEqual(error.issues, [
      {
        path: 'SESSIONS_CACHE_DRIVER',
        message: `fake needs zod, which is not installed: npm install zod`,
      },
    ]);
  });

  it('any other import error passes through as it is', async () => {
    const ofDependency = notFound("Cannot find package 'snappy' imported from /node_modules/kafkajs/x.js");
    const broken = new SyntaxError('Unexpected token');
    for (const thrown of [ofDependency, broken]) {
      const adapters = [adapterImporting(['kafkajs'], () => Promise.reject(thrown))];
      assert.equal(
        await rejection(
          createInfrastructure({ cache: { driver: 'fake' } } as never, silentRuntime(), { adapters }),
        ),
        thrown,
      );
    }
  });
});

// A copy of berth whose node_modules has everything but some SDKs: Node's own resolution fails
// on the adapters' real imports, as in an application that did not install them.
describe('built-in drivers without their SDK (a copy of berth without kafkajs, @azure/keyvault-secrets, PGlite)', () => {
  const missing = new Set(['kafkajs', '@azure/keyvault-secrets', '@electric-sql/pglite']);
  let copy = '';

  before(() => {
    copy = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-missing-sdk-'));
    fs.cpSync(path.join(root, 'src'), path.join(copy, 'src'), { recursive: true });
    fs.copyFileSync(path.join(root, 'package.json'), path.join(copy, 'package.json'));
    const modules = path.join(root, 'node_modules');
    const link = (name: string): void => {
      if (!missing.has(name)) fs.symlinkSync(path.join(modules, name), path.join(copy, 'node_modules', name));
    };
    fs.mkdirSync(path.join(copy, 'node_modules'));
    for (const entry of fs.readdirSync(modules)) {
      if (entry.startsWith('.')) continue;
      if (!entry.startsWith('@')) {
        link(entry);
        continue;
      }
      fs.mkdirSync(path.join(copy, 'node_modules', entry));
      for (const scoped of fs.readdirSync(path.join(modules, entry))) link(`${entry}/${scoped}`);
    }
    fs.writeFileSync(
      path.join(copy, 'probe.ts'),
      `import { createInfrastructure } from './src/config/infrastructure.ts';
import { loadConfig } from './src/config/load-config.ts';
import { createLogger, createRuntime } from './src/runtime/runtime.ts';
const runtime = createRuntime({ logger: createLogger({ level: 'silent' }) });
const outcome = async (build: () => Promise<unknown>) => {
  try {
    await build();
    return { ok: true };
  } catch (error) {
    const e = error as { name: string; message: string; issues?: unknown; cause?: { code?: string } };
    return { name: e.name, message: e.message, issues: e.issues, causeCode: e.cause?.code };
  }
};
const results = {
  kafka: await outcome(() => createInfrastructure({ broker: { driver: 'kafka', brokers: ['127.0.0.1:1'] } }, runtime)),
  keyVault: await outcome(() =>
    createInfrastructure({ secrets: { driver: 'azure-keyvault', vaultUrl: 'https://v.vault.azure.net' } }, runtime),
  ),
  embedded: await outcome(() => createInfrastructure({ sql: { driver: 'embedded' } }, runtime)),
  fromEnv: await outcome(() =>
    loadConfig({ BROKER_DRIVER: 'kafka', KAFKA_BROKERS: '127.0.0.1:1', SQL_DRIVER: 'embedded' }, { runtime }),
  ),
  memory: await outcome(async () => (await createInfrastructure({ cache: { driver: 'memory' } }, runtime)).close()),
};
process.stdout.write(JSON.stringify(results));
`,
    );
  });
  after(() => fs.rmSync(copy, { recursive: true, force: true }));

  it('each names the driver and the npm install to run, from the adapter’s own import', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['probe.ts'], {
      cwd: copy,
      timeout: 60_000,
    });
    const results = JSON.parse(stdout) as Record<
      string,
      { name?: string; message?: string; causeCode?: string; ok?: true }
    >;
    const range = (name: string): string => manifest.peerDependencies[name]!;
    assert.deepEqual(results.kafka, {
      name: 'ConfigError',
      message: `Invalid broker "default": driver: kafka needs kafkajs, which is not installed: npm install kafkajs@"${range('kafkajs')}"`,
      issues: [
        {
          path: 'driver',
          message: `kafka needs kafkajs, which is not installed: npm install kafkajs@"${range('kafkajs')}"`,
        },
      ],
      causeCode: 'ERR_MODULE_NOT_FOUND',
    });
    assert.match(
      results.keyVault?.message ?? '',
      new RegExp(
        `^Invalid secrets "default": driver: azure-keyvault needs @azure/keyvault-secrets, which is not installed: npm install @azure/keyvault-secrets@"${range('@azure/keyvault-secrets').replace(/[.^]/g, '\\$&')}"$`,
      ),
    );
    assert.match(
      results.embedded?.message ?? '',
      /driver: embedded needs @electric-sql\/pglite, which is not installed/,
    );
    assert.equal(
      results.fromEnv?.message,
      'Invalid configuration from the environment: ' +
        `SQL_DRIVER: embedded needs @electric-sql/pglite, which is not installed: npm install @electric-sql/pglite@"${range('@electric-sql/pglite')}"; ` +
        `BROKER_DRIVER: kafka needs kafkajs, which is not installed: npm install kafkajs@"${range('kafkajs')}"`,
    );
    assert.deepEqual(results.memory, { ok: true });
  });
});
