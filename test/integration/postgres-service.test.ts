// The `postgres` test server (a cluster of its own, see test/servers/launchers/postgres.ts), reached with
// pg: a real query; the local one is its own cluster; `up` twice is idempotent; `down` is quick.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { canProvide, serviceEnv, stateDir } from '../servers/services.ts';
import { freePort } from '../support/ports.ts';
import { findPostgres } from '../support/servers.ts';

const servicesScript = fileURLToPath(new URL('../../scripts/services.ts', import.meta.url));
const run = promisify(execFile);

const postgres = await findPostgres();
const table = `berth_service_${process.pid}_${Date.now()}`;

/** A connected client; a server that goes away emits 'error', which must not crash the test. */
async function connect(url: string): Promise<Client> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  await client.connect();
  return client;
}

async function setting(client: Client, name: string): Promise<string> {
  const result = await client.query<{ value: string }>('SELECT current_setting($1) AS value', [name]);
  return result.rows[0]?.value ?? '';
}

describe(
  'postgres (POSTGRES_URL, scripts/services.ts or a container) with pg',
  { skip: 'skip' in postgres ? postgres.skip : false },
  () => {
    let client: Client;

    before(async () => {
      assert.ok(!('skip' in postgres));
      client = await connect(postgres.url);
    });

    after(async () => {
      await client?.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
      await client?.end();
    });

    it('answers a query as the berth superuser in the berth database', async () => {
      const result = await client.query<{ user: string; db: string; superuser: boolean; version: string }>(
        `SELECT current_user AS user, current_database() AS db, version() AS version,
                (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser`,
      );
      assert.deepEqual(
        { user: result.rows[0]?.user, db: result.rows[0]?.db, superuser: result.rows[0]?.superuser },
        { user: 'berth', db: 'berth', superuser: true },
      );
      assert.match(result.rows[0]?.version ?? '', /^PostgreSQL \d+/);
    });

    it('writes rows with parameters in a transaction and reads them back', async () => {
      await client.query(`CREATE TABLE ${table} (id int PRIMARY KEY, name text NOT NULL, tags jsonb)`);
      await client.query('BEGIN');
      for (let id = 1; id <= 50; id++) {
        await client.query(`INSERT INTO ${table} VALUES ($1, $2, $3)`, [
          id,
          `row-${id}`,
          { even: id % 2 === 0 },
        ]);
      }
      await client.query('COMMIT');
      const result = await client.query<{ count: string; last: string }>(
        `SELECT count(*) AS count, max(name) FILTER (WHERE (tags->>'even')::boolean) AS last FROM ${table}`,
      );
      assert.deepEqual(result.rows[0], { count: '50', last: 'row-8' });
    });

    it('is, when started here, a cluster of its own: data in the state folder, 127.0.0.1:15432', async (t) => {
      assert.ok(!('skip' in postgres));
      if ((await serviceEnv('postgres'))?.['POSTGRES_URL'] !== postgres.url) {
        t.skip('the server comes from POSTGRES_URL or a container, not scripts/services.ts');
        return;
      }
      assert.equal(await setting(client, 'data_directory'), path.join(stateDir('postgres'), 'data'));
      assert.equal(await setting(client, 'port'), process.env['BERTH_POSTGRES_PORT'] || '15432');
      assert.equal(await setting(client, 'listen_addresses'), '127.0.0.1');
      assert.equal(await setting(client, 'unix_socket_directories'), path.join(stateDir('postgres'), 'run'));
      assert.equal(await setting(client, 'max_connections'), '200');
      assert.equal(await setting(client, 'fsync'), 'off');
      assert.equal(await setting(client, 'password_encryption'), 'scram-sha-256');
    });
  },
);

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (accepted: boolean) => {
      socket.destroy();
      resolve(accepted);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

describe('postgres service: up, up again, down (a state folder and port of its own)', () => {
  it('starts once, answers, and stops within a few seconds with a client in a transaction', async (t) => {
    if (!canProvide('postgres')) {
      t.skip('this machine cannot run postgres locally (no PostgreSQL, cannot install it)');
      return;
    }
    // An instance of its own, so the shared one (and the tests using it) are left alone.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-postgres-'));
    const port = await freePort();
    const env = { ...process.env, BERTH_SERVICES_DIR: dir, BERTH_POSTGRES_PORT: String(port) };
    const cli = (...args: string[]) => run(process.execPath, [servicesScript, ...args], { env });
    const pidFile = path.join(dir, 'postgres', 'postgres.pid');
    const dataDir = path.join(dir, 'postgres', 'data');
    let client: Client | undefined;
    try {
      let started = Date.now();
      const first = await cli('up', 'postgres');
      t.diagnostic(`first up (initdb included): ${Date.now() - started} ms`);
      const match = /^POSTGRES_URL=(postgres:\/\/berth:[0-9a-f]{32}@127\.0\.0\.1:(\d+)\/berth)\n$/.exec(
        first.stdout,
      );
      assert.ok(match, first.stdout);
      assert.equal(Number(match[2]), port);
      assert.match(first.stderr, /postgres: starting/);
      const pid = fs.readFileSync(pidFile, 'utf8').trim();

      client = await connect(match[1] ?? '');
      assert.equal(await setting(client, 'data_directory'), dataDir);

      started = Date.now();
      const second = await cli('up', 'postgres');
      t.diagnostic(`second up: ${Date.now() - started} ms`);
      assert.equal(second.stdout, first.stdout);
      assert.match(second.stderr, /postgres: already running/);
      assert.equal(fs.readFileSync(pidFile, 'utf8').trim(), pid);
      assert.match(
        (await cli('status')).stdout,
        new RegExp(`^postgres: running \\(pid ${pid}\\), answering;`, 'm'),
      );

      // A client inside a transaction: a smart shutdown would wait for it, the fast one cuts it.
      await client.query('BEGIN');
      await client.query('SELECT 1');
      started = Date.now();
      await cli('down', 'postgres');
      const stopMs = Date.now() - started;
      t.diagnostic(`down: ${stopMs} ms`);
      assert.ok(stopMs < 5000, `down took ${stopMs} ms`);
      assert.equal(fs.existsSync(pidFile), false);
      // postmaster.pid is removed at the end of a clean shutdown.
      assert.equal(fs.existsSync(path.join(dataDir, 'postmaster.pid')), false);
      assert.equal(await portAccepts(port), false);
      assert.match((await cli('status')).stdout, /^postgres: stopped;/m);

      started = Date.now();
      assert.equal(
        (await cli('up', 'postgres')).stdout,
        first.stdout,
        'up after down: same cluster, same URL',
      );
      t.diagnostic(`up again after down: ${Date.now() - started} ms`);
    } finally {
      await client?.end().catch(() => undefined);
      await cli('down', 'postgres').catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
