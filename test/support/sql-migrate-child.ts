// One of the processes of the migrations race in test/integration/postgres-sql.test.ts: it opens
// the PostgreSQL at MIGRATE_URL, prints `ready` once connected, waits for `go` on stdin (so that
// both processes start migrating at once), migrates, and prints one JSON line: its report, the
// ids it migrated and when it started and ended (ms since the epoch), or the reason it failed.
// Its five migrations fill MIGRATE_TARGET, each taking 0.2 s on the server to widen the race;
// MIGRATE_TABLE records them; MIGRATE_CHANGED=true changes the text of one.
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createPostgresDatabase } from '../../src/adapters/postgres/index.ts';
import { isInfraError, sql, type Migration } from '../../src/ports/index.ts';
import { silentRuntime } from './runtime.ts';

const { MIGRATE_URL: url, MIGRATE_TARGET: target, MIGRATE_TABLE: migrationsTable } = process.env;
if (url === undefined || target === undefined || migrationsTable === undefined) {
  throw new Error('MIGRATE_URL, MIGRATE_TARGET and MIGRATE_TABLE are required');
}

const migrations: Migration[] = [
  {
    id: '001_create',
    sql: `CREATE TABLE ${target} (migration text NOT NULL, pid integer NOT NULL); SELECT pg_sleep(0.2)`,
  },
  ...['002_first', '003_second', '004_third', '005_fourth'].map((id) => ({
    id,
    sql: `INSERT INTO ${target} (migration, pid) VALUES ('${id}', pg_backend_pid()); SELECT pg_sleep(0.2)`,
  })),
];
if (process.env.MIGRATE_CHANGED === 'true') {
  migrations[2] = { id: '003_second', sql: `INSERT INTO ${target} (migration, pid) VALUES ('changed', 0)` };
}

const db = createPostgresDatabase({ url, poolSize: 2, migrationsTable }, silentRuntime());
try {
  await db.query(sql`SELECT 1 AS connected`);
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  const [line] = (await once(lines, 'line')) as [string];
  lines.close();
  if (line !== 'go') throw new Error(`expected go, read ${line}`);
  const started = Date.now();
  const report = await db.migrate(migrations, { timeoutMs: 60_000 });
  const ids = migrations.map((m) => m.id);
  process.stdout.write(`${JSON.stringify({ ids, report, started, ended: Date.now() })}\n`);
} catch (error) {
  const reason = isInfraError(error) ? error.reason : 'unexpected';
  const message = error instanceof Error ? error.message : String(error);
  process.stdout.write(`${JSON.stringify({ error: { reason, message } })}\n`);
} finally {
  await db.close();
}
