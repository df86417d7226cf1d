// Credential rotation on PostgreSQL over TLS (#26): the password is POSTGRES_PASSWORD=secret://…,
// read from a mounted secrets folder (SECRETS_DRIVER=file). The folder gets the new password first,
// then ALTER ROLE changes it on the server and the role's idle connections are terminated
// (PostgreSQL keeps sessions that logged in before). The running database reads the secret again
// when a new connection is refused, and no query fails beyond the first.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import fs from 'node:fs';
import { createInfrastructure, loadConfig } from '../../src/index.ts';
import { sql } from '../../src/ports/index.ts';
import { newPassword, secretsFolder, steadyTraffic } from '../support/rotation.ts';
import { secretWatch } from '../support/secret-watch.ts';
import { findPostgresSecure } from '../support/secure-servers.ts';

const secure = await findPostgresSecure();

describe(
  'postgres credential rotation from a secret:// reference',
  { skip: 'skip' in secure ? secure.skip : false },
  () => {
    if ('skip' in secure) return;
    const secrets = secretsFolder();
    const role = `rotation_${process.pid}`;
    // The cluster's superuser, to make the role and change its password.
    const admin = new pg.Client({
      connectionString: secure.url,
      ssl: { ca: fs.readFileSync(secure.caFile, 'utf8') },
    });
    after(async () => {
      await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
      await admin.end().catch(() => undefined);
      secrets.remove();
    });

    it('rotation: a password changed in the store, then on the server, fails no query beyond the first', async () => {
      await admin.connect();
      const [oldPassword, newOne] = [newPassword('old'), newPassword('new')];
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${oldPassword}'`);
      secrets.write('postgres-password', oldPassword);
      const server = new URL(secure.url);
      const watch = secretWatch();
      const { runtime } = watch;
      const env = {
        SQL_DRIVER: 'postgres',
        POSTGRES_URL: `postgres://${role}@${server.host}${server.pathname}`,
        POSTGRES_PASSWORD: 'secret://postgres-password',
        POSTGRES_TLS_CA_FILE: secure.caFile,
        POSTGRES_POOL_SIZE: '4',
        SECRETS_DRIVER: 'file',
        SECRETS_DIR: secrets.dir,
      };
      const infra = await createInfrastructure(await loadConfig(env, { runtime }), runtime);
      try {
        const database = infra.sql;
        // Four at once, so the pool holds several connections to lose.
        const traffic = steadyTraffic(() =>
          Promise.all([1, 2, 3, 4].map((n) => database.query(sql`SELECT ${n}::int AS n`))),
        );
        await sleep(300);
        secrets.write('postgres-password', newOne);
        await sleep(200);
        await admin.query(`ALTER ROLE ${role} PASSWORD '${newOne}'`);
        // Between queries: one cut mid-flight fails for the cut, which is not what this shows; the
        // pool is given a moment to read the server's goodbye on its idle connections.
        const terminated = await traffic.between(async () => {
          const done = await admin.query(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`,
            [role],
          );
          await sleep(100);
          return done;
        });
        await sleep(1_500);
        const result = await traffic.stop();
        assert.ok(
          terminated.rowCount! >= 1,
          `the pool's connections were terminated (${terminated.rowCount})`,
        );
        assert.ok(
          result.failures.length <= 1,
          `${result.failures.length} of ${result.calls} rounds failed: ${JSON.stringify(result.failures.slice(0, 3))}`,
        );
        // Every connection the pool makes from now on logs in with the new password.
        const rows = await Promise.all(
          [1, 2, 3, 4, 5].map(() => database.query(sql`SELECT current_user AS u`)),
        );
        assert.deepEqual(new Set(rows.map((r) => r[0]?.['u'])), new Set([role]));
        assert.equal((await database.health()).status, 'up');
        assert.match(watch.logs(), /credentials renewed/);
        watch.keep(result);
        await watch.assertNoSecrets({ 'the old password': oldPassword, 'the new password': newOne });
        console.log(
          `postgres rotation: ${result.calls} rounds of 4 queries, ${result.failures.length} failed, ${terminated.rowCount} connections terminated, slowest round ${result.slowestMs} ms`,
        );
      } finally {
        await infra.close();
      }
    });
  },
);
