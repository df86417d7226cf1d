import type { PGlite, Results } from '@electric-sql/pglite';
import type { HealthResult, OperationContext } from '../../ports/component.ts';
import { ConfigError } from '../../ports/errors.ts';
import type {
  IsolationLevel,
  SqlAdapter,
  SqlCursor,
  SqlResult,
  SqlSession,
} from '../../ports/sql-database.ts';
import type { RenderedSql } from '../../ports/sql.ts';
import { embeddedDatabaseOptionsSchema, type EmbeddedDatabaseOptions } from './options.ts';
import { parseOptions } from '../../runtime/options/validate.ts';
import { guardSqlDatabase, type GuardedSqlDatabase } from '../../runtime/sql/guarded-sql-database.ts';
import { extendPort } from '../../runtime/extend-port.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';
import { missingPackageOf, missingPackagesMessage } from '../../runtime/adapter-descriptor.ts';
import { openDeclaredCursor } from './cursor.ts';
import { classifyPostgresError } from './errors.ts';
import { beginStatement, postgresParsers, toPostgresValues } from './values.ts';

const pglitePackage = '@electric-sql/pglite';

export type EmbeddedDatabase = GuardedSqlDatabase & { pglite(): Promise<PGlite> };

/**
 * PostgreSQL in this process through PGlite (WebAssembly): one connection, so berth lends it to
 * one caller at a time (a pool of one) and a transaction holds it from BEGIN to COMMIT. A
 * statement runs to its end inside the process: a deadline rejects the caller, it cannot stop it.
 */
class EmbeddedAdapter implements SqlAdapter {
  readonly system = 'postgresql';
  readonly dialect = 'postgres' as const;
  readonly poolSize = 1;
  readonly #dataDir: string | undefined;
  readonly #owned: boolean;
  readonly #loadOnStart: boolean;
  #db: Promise<PGlite> | undefined;
  #busy = false;

  constructor(dataDir: string | undefined, given: PGlite | undefined, loadOnStart: boolean) {
    this.#dataDir = dataDir;
    this.#loadOnStart = loadOnStart;
    this.#owned = given === undefined;
    if (given !== undefined) this.#db = Promise.resolve(given);
  }

  /** Started on first use: loading the WebAssembly module takes a few hundred milliseconds. */
  database(): Promise<PGlite> {
    this.#db ??= import('@electric-sql/pglite')
      .then(({ PGlite }) => PGlite.create(this.#dataDir))
      .catch((error: unknown) => {
        this.#db = undefined;
        // Loaded on the first statement (`loadOnStart: false`): a missing PGlite says what to install.
        if (missingPackageOf(error) !== pglitePackage) throw error;
        throw new ConfigError('embedded database', [
          { path: 'driver', message: missingPackagesMessage('embedded', [pglitePackage]) },
        ]);
      });
    return this.#db;
  }

  // Loading the module blocks the event loop for seconds on a busy machine: better at start than mid-request.
  async start(): Promise<void> {
    if (this.#loadOnStart) await this.database();
  }

  async query(statement: RenderedSql, ctx: OperationContext): Promise<SqlResult> {
    this.#busy = true;
    try {
      return await this.#run(statement, ctx);
    } finally {
      this.#busy = false;
    }
  }

  async begin(isolation: IsolationLevel, ctx: OperationContext): Promise<SqlSession> {
    await this.#run({ text: beginStatement[isolation], values: [] }, ctx);
    this.#busy = true;
    let released = false;
    const release = async (broken: boolean): Promise<void> => {
      // The one connection cannot be replaced: a broken session is rolled back instead.
      if (broken) await this.#run({ text: 'ROLLBACK', values: [] }, ctx).catch(() => undefined);
    };
    return {
      query: (statement, queryCtx) => this.#run(statement, queryCtx),
      commit: async (commitCtx) => {
        await this.#run({ text: 'COMMIT', values: [] }, commitCtx);
      },
      rollback: async (rollbackCtx) => {
        await this.#run({ text: 'ROLLBACK', values: [] }, rollbackCtx);
      },
      release: (broken) => {
        if (released) return;
        released = true;
        this.#busy = false;
        void release(broken);
      },
    };
  }

  open(statement: RenderedSql, ctx: OperationContext): Promise<SqlCursor> {
    return openDeclaredCursor(this, statement, ctx);
  }

  poolStatus() {
    return { size: 1, idle: this.#busy ? 0 : 1, busy: this.#busy ? 1 : 0 };
  }

  // No statement: the one connection may be inside a caller's transaction. Not started yet is up.
  async probe(): Promise<HealthResult> {
    if (this.#db === undefined) return { status: 'up', details: { embedded: true, started: false } };
    const db = await this.#db;
    return db.closed ? { status: 'down', error: 'closed' } : { status: 'up', details: { embedded: true } };
  }

  classifyError(error: unknown) {
    return classifyPostgresError(error);
  }

  async close(): Promise<void> {
    const db = await this.#db?.catch(() => undefined);
    if (this.#owned && db !== undefined && !db.closed) await db.close();
  }

  // PGlite's exec takes several statements (migrations) but no parameters; query one statement.
  async #run(statement: RenderedSql, ctx: OperationContext): Promise<SqlResult> {
    // PGlite answers within microtasks, a server as I/O: without a turn of the event loop per
    // statement, busy callers starve every timer (deadlines, polls) and all I/O while they last.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const db = await this.database();
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (statement.values.length === 0) {
      const results = await db.exec(statement.text, parsing);
      return toResult(results.at(-1));
    }
    return toResult(await db.query(statement.text, toPostgresValues(statement.values), parsing));
  }
}

// Per statement, so that a PGlite instance the caller passed in reads values as berth's rule says.
const parsing = { parsers: postgresParsers };

function toResult(result: Results | undefined): SqlResult {
  const rows = (result?.rows ?? []) as Record<string, unknown>[];
  return { rows, rowCount: result?.affectedRows ?? rows.length };
}

/**
 * `SqlDatabase` on PostgreSQL compiled to WebAssembly, in this process: for tests and local
 * runs, in memory or in `dataDir`. `pglite()` is the database, for what the port lacks.
 */
export function createEmbeddedDatabase(
  options: EmbeddedDatabaseOptions = {},
  runtime: Runtime = defaultRuntime(),
): EmbeddedDatabase {
  const parsed = parseOptions(embeddedDatabaseOptionsSchema, options, 'embedded database options');
  if (parsed.pglite !== undefined && parsed.dataDir !== undefined) {
    throw new ConfigError('embedded database options', [
      { path: 'pglite', message: 'give a PGlite instance or a dataDir, not both' },
    ]);
  }
  const adapter = new EmbeddedAdapter(
    parsed.dataDir,
    parsed.pglite as PGlite | undefined,
    parsed.loadOnStart,
  );
  // Its own id: `sql:postgresql` would read as a server.
  const port = guardSqlDatabase(adapter, { ...parsed, id: parsed.id ?? 'sql:embedded' }, runtime);
  return extendPort(port, { pglite: () => adapter.database() });
}
