import net from 'node:net';
import pg from 'pg';
import type { Logger } from 'pino';
import type { HealthResult, OperationContext } from '../../ports/component.ts';
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
  postgresDatabaseOptionsSchema,
  type ParsedPostgresDatabaseOptions,
  type PostgresDatabaseOptions,
} from '../../options/sql-schemas.ts';
import { parseOptions } from '../../options/validate.ts';
import { guardSqlDatabase, type GuardedSqlDatabase } from '../../runtime/guarded-sql-database.ts';
import { extendPort } from '../../runtime/extend-port.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';
import { openDeclaredCursor } from './cursor.ts';
import { classifyPostgresError } from './errors.ts';
import { postgresParsers, toPostgresValue } from './values.ts';

export type PostgresDatabase = GuardedSqlDatabase & { pool(): pg.Pool };

/** A pooled client with what the protocol's cancel request needs; `cancelled` once one was sent. */
interface ActiveClient extends pg.PoolClient {
  readonly processID: number | null;
  readonly secretKey: number | null;
  cancelled?: boolean;
}

function poolConfig(options: ParsedPostgresDatabaseOptions): pg.PoolConfig {
  const password = options.password instanceof Redacted ? options.password.reveal() : options.password;
  return {
    connectionString: options.url,
    ...(password === undefined ? {} : { password }),
    // One connection more than berth lends out: a health probe never waits behind a full pool.
    max: options.poolSize + 1,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: options.applicationName,
    ssl: typeof options.ssl === 'boolean' ? options.ssl : { ca: options.ssl.ca },
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
        postgresParsers[oid] ??
        (pg.types.getTypeParser as (id: number, format?: string) => unknown)(
          oid,
          format,
        )) as typeof pg.types.getTypeParser,
    },
  };
}

const beginStatement: Record<IsolationLevel, string> = {
  'read committed': 'BEGIN ISOLATION LEVEL READ COMMITTED',
  'repeatable read': 'BEGIN ISOLATION LEVEL REPEATABLE READ',
  serializable: 'BEGIN ISOLATION LEVEL SERIALIZABLE',
};

/** PostgreSQL through `pg`'s pool. A statement past its deadline is cancelled on the server. */
class PostgresAdapter implements SqlAdapter {
  readonly system = 'postgresql';
  readonly dialect = 'postgres' as const;
  readonly poolSize: number;
  readonly pool: pg.Pool;
  readonly #logger: Logger;

  constructor(options: ParsedPostgresDatabaseOptions, logger: Logger) {
    this.poolSize = options.poolSize;
    this.pool = new pg.Pool(poolConfig(options));
    this.#logger = logger;
    // An idle connection that breaks emits here; without a listener it would crash the process.
    this.pool.on('error', (error) => logger.warn({ err: error }, 'idle PostgreSQL connection failed'));
  }

  async query(statement: RenderedSql, ctx: OperationContext): Promise<SqlResult> {
    const client = await this.#connect(ctx);
    let broken = false;
    try {
      return await this.#run(client, statement, ctx);
    } catch (error) {
      broken = classifyPostgresError(error).reason === 'unavailable';
      throw error;
    } finally {
      // A cancel request may land after the statement ended: the connection is not lent again.
      client.release(broken || client.cancelled === true);
    }
  }

  async begin(isolation: IsolationLevel, ctx: OperationContext): Promise<SqlSession> {
    const client = await this.#connect(ctx);
    try {
      await this.#run(client, { text: beginStatement[isolation], values: [] }, ctx);
    } catch (error) {
      client.release(true);
      throw error;
    }
    let released = false;
    return {
      query: (statement, queryCtx) => this.#run(client, statement, queryCtx),
      commit: async (commitCtx) => {
        await this.#run(client, { text: 'COMMIT', values: [] }, commitCtx);
      },
      rollback: async (rollbackCtx) => {
        await this.#run(client, { text: 'ROLLBACK', values: [] }, rollbackCtx);
      },
      release: (broken) => {
        if (!released) client.release(broken || client.cancelled === true);
        released = true;
      },
    };
  }

  async open(statement: RenderedSql, ctx: OperationContext): Promise<SqlCursor> {
    const session = await this.begin('read committed', ctx);
    try {
      return await openDeclaredCursor(session, statement, ctx);
    } catch (error) {
      session.release(true);
      throw error;
    }
  }

  poolStatus() {
    return {
      size: this.pool.totalCount,
      idle: this.pool.idleCount,
      busy: this.pool.totalCount - this.pool.idleCount,
    };
  }

  async probe(signal: AbortSignal): Promise<HealthResult> {
    const result = await this.query({ text: 'SELECT 1 AS ok', values: [] }, { signal });
    return { status: result.rows.length === 1 ? 'up' : 'down' };
  }

  classifyError(error: unknown) {
    return classifyPostgresError(error);
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  /** A pooled client; one that connects after the deadline went by goes back to the pool. */
  async #connect(ctx: OperationContext): Promise<ActiveClient> {
    const client = (await this.pool.connect()) as ActiveClient;
    if (ctx.signal.aborted) {
      client.release();
      throw ctx.signal.reason;
    }
    return client;
  }

  // pg sends a statement without parameters as a simple query: several statements may run at once.
  async #run(client: ActiveClient, statement: RenderedSql, ctx: OperationContext): Promise<SqlResult> {
    const values = statement.values.length === 0 ? undefined : statement.values.map(toPostgresValue);
    let done = false;
    const running = client.query({ text: statement.text, ...(values === undefined ? {} : { values }) });
    const cancel = (): void => {
      if (!done) this.#cancel(client);
    };
    ctx.signal.addEventListener('abort', cancel, { once: true });
    try {
      const result = (await running) as pg.QueryResult<SqlRow> | pg.QueryResult<SqlRow>[];
      const last = Array.isArray(result) ? result.at(-1) : result;
      return { rows: last?.rows ?? [], rowCount: last?.rowCount ?? 0 };
    } finally {
      done = true;
      ctx.signal.removeEventListener('abort', cancel);
    }
  }

  // The protocol's cancel request, on a connection of its own: the server stops the statement.
  #cancel(client: ActiveClient): void {
    if (client.processID === null || client.secretKey === null) return;
    client.cancelled = true;
    sendCancelRequest(client.host, client.port, client.processID, client.secretKey, this.#logger);
  }
}

/** PostgreSQL's CancelRequest: length 16, code 80877102, the backend's process id and key. */
function sendCancelRequest(
  host: string,
  port: number,
  processId: number,
  secretKey: number,
  logger: Logger,
): void {
  const packet = Buffer.alloc(16);
  packet.writeInt32BE(16, 0);
  packet.writeInt32BE(80_877_102, 4);
  packet.writeInt32BE(processId, 8);
  packet.writeInt32BE(secretKey, 12);
  const socket = net.connect({ host, port });
  socket.setTimeout(5_000, () => socket.destroy());
  socket.on('error', (error) => logger.debug({ err: error }, 'cancel request failed'));
  socket.on('connect', () => socket.end(packet));
}

/** `SqlDatabase` on PostgreSQL with `pg`; `pool()` is the driver's pool, for what the port lacks. */
export function createPostgresDatabase(
  options: PostgresDatabaseOptions,
  runtime: Runtime = defaultRuntime(),
): PostgresDatabase {
  const parsed = parseOptions(postgresDatabaseOptionsSchema, options, 'postgres database options');
  const logger = runtime.logger.child({ component: parsed.id ?? 'sql:postgresql' });
  const adapter = new PostgresAdapter(parsed, logger);
  return extendPort(guardSqlDatabase(adapter, parsed, runtime), { pool: () => adapter.pool });
}
