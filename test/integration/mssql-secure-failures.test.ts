// mssql against a TDS server that requires encryption (a wire-level contract with the real
// tedious driver): a wrong password, an untrusted certificate, a host name mismatch and plaintext
// to a TLS port each named, within 2 s, never retried, no password in logs or errors.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, it } from 'node:test';
import { createMssqlDatabase, type MssqlDatabaseOptions } from '../../src/adapters/mssql/index.ts';
import { sql, type ErrorReason, type SqlDatabase } from '../../src/ports/index.ts';
import { rejectsWith } from '../../src/testing/infra-assertions.ts';
import { secretWatch, serverSecrets } from '../support/secret-watch.ts';
import { findMssqlSecure } from '../support/secure-servers.ts';

const secure = await findMssqlSecure();

describe(
  'mssql on the TDS test server, encryption required (wire-level contract): failures are named, fast, and keep secrets',
  { skip: 'skip' in secure ? secure.skip : false },
  () => {
    if ('skip' in secure) return;
    const ca = fs.readFileSync(secure.caFile, 'utf8');
    const password = decodeURIComponent(new URL(secure.url).password);
    const opened: SqlDatabase[] = [];
    after(() => Promise.all(opened.map((database) => database.close())));
    const watch = secretWatch();
    after(() =>
      watch.assertNoSecrets({ ...serverSecrets(secure), 'the wrong password': 'Not-the-password-1' }),
    );

    async function failsEachTime(options: MssqlDatabaseOptions, reason: ErrorReason, words: RegExp) {
      const database = createMssqlDatabase(
        { ...options, policies: { breaker: { consecutiveFailures: 2 } } },
        watch.runtime,
      );
      opened.push(database);
      for (let call = 0; call < 3; call++) {
        const started = performance.now();
        const error = await rejectsWith(watch.watch(database.query(sql`SELECT 1 AS one`)), reason);
        const elapsedMs = performance.now() - started;
        assert.ok(elapsedMs < 2_000, `call ${call} failed in ${Math.round(elapsedMs)} ms`);
        assert.match(error.message, words, `call ${call}: ${error.message}`);
        assert.equal(error.message.includes(password), false);
      }
      const health = await database.health();
      watch.keep(health);
      assert.equal(health.status, 'down');
    }

    it('a wrong password is unauthorized, named, and never retried', async () => {
      const wrong = new URL(secure.url);
      wrong.password = 'Not-the-password-1';
      await failsEachTime(
        { url: wrong.toString(), tls: { ca, serverName: 'localhost' } },
        'unauthorized',
        /login failed/,
      );
    });

    it('an untrusted certificate (no CA given) is a config error that says so', async () => {
      await failsEachTime({ url: secure.url }, 'config', /untrusted certificate/);
    });

    it('a host name mismatch is a config error that says so', async () => {
      await failsEachTime(
        { url: secure.url, tls: { ca, serverName: 'elsewhere.example' } },
        'config',
        /host name mismatch/,
      );
    });

    it('plaintext to a TLS port is a config error that says so', async () => {
      await failsEachTime({ url: secure.url, encrypt: false }, 'config', /plaintext to a TLS port/);
    });
  },
);
