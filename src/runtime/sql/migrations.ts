import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { OperationOptions } from '../../ports/component.ts';
import type {
  Migration,
  MigrationReport,
  SqlDatabase,
  SqlOperation,
  SqlTransaction,
} from '../../ports/sql-database.ts';
import { sql, type SqlDialect } from '../../ports/sql.ts';
import type { Guard } from '../guard/guard.ts';
import { dialects } from './dialects.ts';

export interface MigrationHost {
  readonly guard: Guard<SqlOperation>;
  readonly dialect: SqlDialect;
  /** A checked identifier. */
  readonly table: string;
  transaction: SqlDatabase['transaction'];
}

interface PlannedMigration {
  id: string;
  text: string;
  checksum: string;
}

const idPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/;
/** A migration may build an index over a large table: its statements get this long by default. */
const defaultMigrationTimeoutMs = 600_000;

/**
 * Applies each migration not applied yet in a transaction of its own that first takes the
 * database's migration lock and then reads the record again, so that processes starting at once
 * apply each migration exactly once.
 */
export async function applyMigrations(
  host: MigrationHost,
  migrations: readonly Migration[],
  options: OperationOptions = {},
): Promise<MigrationReport> {
  const planned = plan(host, migrations);
  const timeoutMs = options.timeoutMs ?? defaultMigrationTimeoutMs;
  const statements = dialects[host.dialect];
  const table = sql.id(host.table);
  const lock = async (tx: SqlTransaction): Promise<void> => {
    const [row] = await tx.query<{ granted: boolean }>(
      { text: statements.lockMigrations(host.table, timeoutMs) },
      { timeoutMs: timeoutMs + 1_000 },
    );
    if (row?.granted !== true) {
      throw host.guard.error(
        'timeout',
        'migrate',
        `the migrations lock was not granted within ${timeoutMs} ms`,
      );
    }
  };
  const once = {
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    timeoutMs: timeoutMs * 2,
    maxAttempts: 1,
  };
  await host.transaction(async (tx) => {
    await lock(tx);
    await tx.execute({ text: statements.createMigrationsTable(host.table) });
  }, once);

  const report: MigrationReport = { applied: [], alreadyApplied: [] };
  for (const migration of planned) {
    const applied = await host.transaction(async (tx) => {
      await lock(tx);
      const rows = await tx.query<{ checksum: string }>(
        sql`SELECT checksum FROM ${table} WHERE id = ${migration.id}`,
      );
      const recorded = rows[0]?.checksum;
      if (recorded !== undefined) {
        if (recorded === migration.checksum) return false;
        throw host.guard.error(
          'conflict',
          'migrate',
          `migration ${migration.id} was applied with other text (checksum ${recorded.slice(0, 12)}…, now ${migration.checksum.slice(0, 12)}…): add a new migration instead of changing an applied one`,
          { retryable: false },
        );
      }
      await tx.execute({ text: migration.text }, { timeoutMs });
      await tx.execute(
        sql`INSERT INTO ${table} (id, checksum, applied_at) VALUES (${migration.id}, ${migration.checksum}, ${new Date()})`,
      );
      return true;
    }, once);
    (applied ? report.applied : report.alreadyApplied).push(migration.id);
    if (applied) host.guard.logger.info({ migration: migration.id }, 'migration applied');
  }
  return report;
}

function plan(host: MigrationHost, migrations: readonly Migration[]): PlannedMigration[] {
  const invalid = (path: string, message: string) => host.guard.invalid('migrate', path, message);
  if (!Array.isArray(migrations)) throw invalid('migrations', 'expected an array of { id, sql }');
  const seen = new Set<string>();
  return migrations.map((migration: Migration, index) => {
    const id: unknown = migration?.id;
    if (typeof id !== 'string' || !idPattern.test(id)) {
      throw invalid(
        `migrations[${index}].id`,
        'expected 1 to 200 letters, digits, _, . or -, starting with a letter or digit',
      );
    }
    if (seen.has(id)) throw invalid(`migrations[${index}].id`, `${id} appears twice`);
    seen.add(id);
    const source: unknown = migration.sql;
    const text =
      typeof source === 'string' ? source : (source as Record<string, unknown> | null)?.[host.dialect];
    if (typeof text !== 'string' || text.trim() === '') {
      throw invalid(
        `migrations[${index}].sql`,
        `expected the statements as text, or a text for ${host.dialect}`,
      );
    }
    return { id, text, checksum: createHash('sha256').update(text).digest('hex') };
  });
}

/** The `*.sql` files of a folder as migrations, in file-name order, each id its name without `.sql`. */
export async function readMigrationsDirectory(directory: string): Promise<Migration[]> {
  const names = (await readdir(directory)).filter((name) => name.endsWith('.sql')).sort();
  return Promise.all(
    names.map(async (name) => ({
      id: name.slice(0, -'.sql'.length),
      sql: await readFile(path.join(directory, name), 'utf8'),
    })),
  );
}
