// createTestInfrastructure builds what a test asks for: an app that uses no SQL neither needs
// @electric-sql/pglite installed nor waits for it to start. Which modules load is seen in a
// child process that records every resolution (module.registerHooks), dynamic imports included.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isInfraError } from '../../src/ports/errors.ts';
import { sql } from '../../src/ports/sql.ts';
import { createTestInfrastructure } from '../../src/testing/test-infrastructure.ts';

const run = promisify(execFile);
const testInfrastructure = fileURLToPath(
  new URL('../../src/testing/test-infrastructure.ts', import.meta.url),
);

interface ChildReport {
  ms: number;
  /** Modules of PGlite resolved and loaded: none when SQL is not used. */
  pglite: string[];
  has: Record<string, boolean>;
  cached: unknown;
  sqlError?: string;
}

/**
 * Builds, starts, uses the cache of and closes a test infrastructure in a fresh process that
 * records every module resolved or loaded; `withoutPglite` makes @electric-sql/pglite missing.
 */
async function inChild(options: string, { withoutPglite = false } = {}): Promise<ChildReport> {
  const script = `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({
      resolve(specifier, context, next) {
        if (${withoutPglite} && specifier.startsWith('@electric-sql/pglite')) {
          const error = new Error("Cannot find package '@electric-sql/pglite' imported from " + context.parentURL);
          error.code = 'ERR_MODULE_NOT_FOUND';
          throw error;
        }
        const result = next(specifier, context);
        seen.push(result.url);
        return result;
      },
      load(url, context, next) {
        seen.push(url);
        return next(url, context);
      },
    });
    const { createTestInfrastructure } = await import(${JSON.stringify(testInfrastructure)});
    const started = performance.now();
    const infra = await createTestInfrastructure(${options});
    await infra.start();
    await infra.cache.set('k', { n: 1 });
    const cached = await infra.cache.get('k');
    const has = Object.fromEntries(['cache', 'broker', 'sql', 'documents'].map((port) => [port, infra.has(port)]));
    const sqlError = ${withoutPglite}
      ? await infra.sql.query({ text: 'SELECT 1' }).then(() => 'none', (error) => String(error.message))
      : undefined;
    await infra.close();
    const ms = performance.now() - started;
    const pglite = seen.filter((url) => url.includes('@electric-sql/pglite') || url.includes('pglite.'));
    console.log(JSON.stringify({ ms, pglite, has, cached, sqlError }));
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '--eval', script], {
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildReport;
}

describe('createTestInfrastructure', () => {
  it('by default builds every port, but starts no PGlite until SQL is used', async (t) => {
    const report = await inChild('');
    t.diagnostic(`build, start and close: ${Math.round(report.ms)} ms`);
    assert.deepEqual(report.pglite, [], 'PGlite was loaded by a test that uses no SQL');
    assert.deepEqual(report.has, { cache: true, broker: true, sql: true, documents: true });
    assert.deepEqual(report.cached, { n: 1 });
  });

  it('works without @electric-sql/pglite installed; SQL then fails on use, saying what is missing', async (t) => {
    const report = await inChild('', { withoutPglite: true });
    t.diagnostic(`SQL without PGlite: ${report.sqlError}`);
    assert.deepEqual(report.cached, { n: 1 });
    assert.equal(report.has.sql, true);
    assert.match(report.sqlError ?? '', /@electric-sql\/pglite/);
  });

  it("with { ports: ['cache', 'broker'] } builds only those", async () => {
    const report = await inChild("{ ports: ['cache', 'broker'] }");
    assert.deepEqual(report.pglite, []);
    assert.deepEqual(report.has, { cache: true, broker: true, sql: false, documents: false });
  });

  it('refuses a port name it does not know, naming it', async () => {
    await assert.rejects(
      createTestInfrastructure({ ports: ['cache', 'sq1' as 'sql'] }),
      (error: unknown) =>
        isInfraError(error) && error.reason === 'config' && /ports\[1\]/.test(error.message),
    );
  });

  it("starts PGlite in start() when SQL is asked for ({ ports: ['sql'] }), and on first use otherwise", async () => {
    const asked = await createTestInfrastructure({ ports: ['sql'] });
    try {
      assert.equal(asked.has('cache'), false);
      await asked.start();
      assert.deepEqual((await asked.sql.health()).details?.started, undefined, 'started by start()');
      assert.deepEqual(await asked.sql.query(sql`SELECT ${1}::int AS one`), [{ one: 1 }]);
    } finally {
      await asked.close();
    }
    const lazy = await createTestInfrastructure();
    try {
      await lazy.start();
      assert.equal((await lazy.sql.health()).details?.started, false, 'not started by start()');
      assert.deepEqual(await lazy.sql.query(sql`SELECT ${2}::int AS two`), [{ two: 2 }]);
      assert.equal((await lazy.health.readiness({ fresh: true })).status, 'up');
    } finally {
      await lazy.close();
    }
  });
});
