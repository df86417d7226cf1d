import mssql from 'mssql';
import type { Logger } from 'pino';
import type { HealthResult, OperationContext } from '../../ports/component.ts';
import type { TlsSettings } from '../../runtime/options/schema-pieces.ts';
import { nodeTlsOptions, warnIfUnverified } from '../shared/tls.ts';
import { Redacted } from '../../ports/redacted.ts';
import type {
  IsolationLevel,
  SqlAdapter,
  SqlCursor,
  SqlResult,
  SqlRow,
  SqlSession,
} from '../../ports/sql-database.ts';
import type { RenderedSql } from '../../ports/sql.ts';
import {
  mssqlDatabaseOptionsSchema,
  type MssqlDatabaseOptions,
  type ParsedMssqlDatabaseOptions,
} from './options.ts';
import { parseOptions } from '../../runtime/options/validate.ts';
import { onAbort } from '../../runtime/guard/abortable-operation.ts';
import { extendPort } from '../../runtime/extend-port.ts';
import { guardSqlDatabase, type GuardedSqlDatabase } from '../../runtime/sql/guarded-sql-database.ts';
import { serverOfUrl } from '../../runtime/telemetry/server-info.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';
import { classifySqlServerError } from './errors.ts';
import { openRowStream } from './row-stream.ts';
import { bindParameters, rowConverter } from './values.ts';

export type MssqlDatabase = GuardedSqlDatabase & { pool(): mssql.ConnectionPool };

type Request = InstanceType<typeof mssql.Request>;

function poolConfig(options: ParsedMssqlDatabaseOptions): mssql.config {
  const url = new URL(options.url);
  const password = options.password instanceof Redacted ? options.password.reveal() : options.password;
  return {
    server: url.hostname,
    port: url.port === '' ? 1433 : Number(url.port),
    user: decodeURIComponent(url.username),
    password: password ?? decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.slice(1)) || 'master',
    connectionTimeout: options.connectTimeoutMs,
    // berth's deadline cancels a statement; the driver's own timer would race it.
    requestTimeout: 0,
    // One connection more than berth lends out: a health probe never waits behind a full pool.
    pool: {
      max: options.poolSize + 1,
      min: 0,
      idleTimeoutMillis: 30_000,
      acquireTimeoutMillis: options.connectTimeoutMs,
    },
    options: {
      encrypt: options.encrypt,
      trustServerCertificate: options.tls?.insecureSkipVerify ?? options.trustServerCertificate,
      ...(options.tls === undefined ? {} : tediousTls(options.tls)),
      useUTC: true,
      appName: 'berth',
    },
  };
}

// tedious takes the CA and client certificate as secure-context options, the name apart.
function tediousTls(settings: TlsSettings): { cryptoCredentialsDetails: object; serverName?: string } {
  const { ca, cert, key, servername } = nodeTlsOptions(settings);
  return {
    cryptoCredentialsDetails: { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) },
    ...(servername === undefined ? {} : { serverName: servername }),
  };
}

const isolationLevel: Record<IsolationLevel, number> = {
  'read committed': mssql.ISOLATION_LEVEL.READ_COMMITTED,
  'repeatable read': mssql.ISOLATION_LEVEL.REPEATABLE_READ,
  serializable: mssql.ISOLATION_LEVEL.SERIALIZABLE,
};

/** Runs one request; the deadline cancels it on the server (an ATTENTION packet). */
async function run(request: Request, statement: RenderedSql, ctx: OperationContext): Promise<SqlResult> {
  bindParameters(request, statement.values);
  const stopListening = onAbort(ctx, () => request.cancel());
  try {
    const result = await request.query<SqlRow>(statement.text);
    const sets = result.recordsets;
    const last = sets.at(-1);
    const rows = last === undefined ? [] : last.map(rowConverter(last.columns));
    const affected = result.rowsAffected.reduce((sum, count) => sum + count, 0);
    return { rows, rowCount: last === undefined ? affected : rows.length };
  } finally {
    stopListening();
  }
}

/** SQL Server through the `mssql` package (tedious). */
class SqlServerAdapter implements SqlAdapter {
  readonly system = 'microsoft.sql_server';
  readonly dialect = 'mssql' as const;
  readonly poolSize: number;
  readonly pool: mssql.ConnectionPool;
  readonly #logger: Logger;
  #connecting: Promise<mssql.ConnectionPool> | undefined;

  constructor(options: ParsedMssqlDatabaseOptions, logger: Logger) {
    this.poolSize = options.poolSize;
    this.pool = new mssql.ConnectionPool(poolConfig(options));
    this.#logger = logger;
    this.pool.on('error', (error: unknown) => logger.warn({ err: error }, 'SQL Server connection failed'));
  }

  async query(statement: RenderedSql, ctx: OperationContext): Promise<SqlResult> {
    const pool = await this.#connected();
    return run(pool.request(), statement, ctx);
  }

  async begin(isolation: IsolationLevel, ctx: OperationContext): Promise<SqlSession> {
    const pool = await this.#connected();
    const transaction = new mssql.Transaction(pool);
    await transaction.begin(isolationLevel[isolation]);
    if (ctx.signal.aborted) {
      await transaction.rollback().catch(() => undefined);
      throw ctx.signal.reason;
    }
    // mssql refuses a second request on a transaction while one runs: statements queue here.
    let queue: Promise<unknown> = Promise.resolve();
    const inOrder = <T>(work: () => Promise<T>): Promise<T> => {
      const next = queue.then(work, work);
      queue = next.catch(() => undefined);
      return next;
    };
    return {
      query: (statement, queryCtx) => inOrder(() => run(new mssql.Request(transaction), statement, queryCtx)),
      commit: () => inOrder(() => transaction.commit()),
      rollback: () =>
        inOrder(async () => {
          // SQL Server may have rolled back already (a deadlock victim, an aborting error).
          if ((transaction as unknown as { _aborted?: boolean })._aborted === true) return;
          await transaction.rollback();
        }),
      // mssql gives the connection back when the transaction ends; a broken one is dropped by the pool.
      release: () => undefined,
    };
  }

  async open(statement: RenderedSql, ctx: OperationContext): Promise<SqlCursor> {
    const pool = await this.#connected();
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const request = pool.request();
    bindParameters(request, statement.values);
    return openRowStream(request, statement.text);
  }

  poolStatus() {
    const { size, available, borrowed } = this.pool;
    return { size, idle: available, busy: borrowed };
  }

  async probe(signal: AbortSignal): Promise<HealthResult> {
    const result = await this.query({ text: 'SELECT 1 AS ok', values: [] }, { signal });
    return { status: result.rows.length === 1 ? 'up' : 'down' };
  }

  classifyError(error: unknown) {
    return classifySqlServerError(error);
  }

  async close(): Promise<void> {
    await this.#connecting?.catch(() => undefined);
    await this.pool.close();
  }

  // Connected on first use and again after a failed attempt: the driver's connect() opens the pool.
  #connected(): Promise<mssql.ConnectionPool> {
    if (this.pool.connected) return Promise.resolve(this.pool);
    this.#connecting ??= this.pool.connect().catch((error: unknown) => {
      this.#connecting = undefined;
      this.#logger.debug({ err: error }, 'SQL Server connect failed');
      throw error;
    });
    return this.#connecting;
  }
}

/** `SqlDatabase` on SQL Server with `mssql`; `pool()` is the driver's pool, for what the port lacks. */
export function createMssqlDatabase(
  options: MssqlDatabaseOptions,
  runtime: Runtime = defaultRuntime(),
): MssqlDatabase {
  const parsed = parseOptions(mssqlDatabaseOptionsSchema, options, 'mssql database options');
  const logger = runtime.logger.child({ component: parsed.id ?? 'sql:microsoft.sql_server' });
  warnIfUnverified(parsed.tls, logger);
  const adapter = new SqlServerAdapter(parsed, logger);
  const server = serverOfUrl(parsed.url, 1433);
  return extendPort(guardSqlDatabase(adapter, { ...parsed, server }, runtime), { pool: () => adapter.pool });
}
