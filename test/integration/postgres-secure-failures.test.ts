// PostgreSQL that takes only TLS: a wrong password, an untrusted certificate, a host name mismatch
// and plaintext to a TLS port each named, within 2 s, never retried, no password in logs or errors.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, it } from 'node:test';
import { createPostgresDatabase, type PostgresDatabaseOptions } from '../../src/adapters/postgres/index.ts';
import type { ErrorReason, SqlDatabase } from '../../src/ports/index.ts';
import { sql } from '../../src/ports/index.ts';
import { rejectsWith } from '../../src/testing/infra-assertions.ts';
import { secretWatch, serverSecrets } from '../support/secret-watch.ts';
import { findPostgresSecure } from '../support/secure-servers.ts';

const secure = await findPostgresSecure();

describe(
  'postgres over TLS only: failures are named, fast, and keep secrets',
  { skip: 'skip' in secure ? secure.skip : false },
  () => {
    if ('skip' in secure) return;
    const ca = fs.readFileSync(secure.caFile, 'utf8');
    const password = decodeURIComponent(new URL(secure.url).password);
    const opened: SqlDatabase[] = [];
    after(() => Promise.all(opened.map((database) => database.close())));
    const watch = secretWatch();
    after(() =>
      watch.assertNoSecrets({ ...serverSecrets(secure), 'the wrong password': 'not-the-password' }),
    );

    async function failsEachTime(options: PostgresDatabaseOptions, reason: ErrorReason, words: RegExp) {
      const database = createPostgresDatabase(
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

    it('verifies the server and answers over TLS', async () => {
      const database = createPostgresDatabase({ url: secure.url, tls: { ca } }, watch.runtime);
      opened.push(database);
      const rows = await database.query<{ ssl: boolean }>(
        sql`SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`,
      );
      assert.deepEqual(rows, [{ ssl: true }]);
    });

    it('a wrong password is unauthorized, named, and never retried', async () => {
      const wrong = new URL(secure.url);
      wrong.password = 'not-the-password';
      await failsEachTime({ url: wrong.toString(), tls: { ca } }, 'unauthorized', /authentication failed/);
    });

    it('an untrusted certificate (no CA given) is a config error that says so', async () => {
      await failsEachTime({ url: secure.url, tls: {} }, 'config', /untrusted certificate/);
    });

    it('a host name mismatch is a config error that says so', async () => {
      await failsEachTime(
        { url: secure.url, tls: { ca, serverName: 'elsewhere.example' } },
        'config',
        /host name mismatch/,
      );
    });

    it('plaintext to a TLS port is a config error that says so', async () => {
      await failsEachTime({ url: secure.url }, 'config', /plaintext to a TLS port/);
    });
  },
);
