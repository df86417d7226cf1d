import net from 'node:net';
import pg from 'pg';
import type { Logger } from 'pino';
import type { HealthResult, OperationContext } from '../../ports/component.ts';
import { nodeTlsOptions, warnIfUnverified } from '../shared/tls.ts';
import { Redacted } from '../../ports/redacted.ts';
import { RotatingSecret } from '../../ports/rotating-secret.ts';
import type {
  IsolationLevel,
  SqlAdapter,
  SqlCursor,
  SqlListener,
  SqlResult,
  SqlRow,
  SqlSession,
} from '../../ports/sql-database.ts';
import type { RenderedSql } from '../../ports/sql.ts';
import {
  postgresDatabaseOptionsSchema,
  type ParsedPostgresDatabaseOptions,
  type PostgresDatabaseOptions,
} from './options.ts';
import { parseOptions } from '../../runtime/options/validate.ts';
import { isAborted, onAbort } from '../../runtime/guard/abortable-operation.ts';
import { guardSqlDatabase, type GuardedSqlDatabase } from '../../runtime/sql/guarded-sql-database.ts';
import { extendPort } from '../../runtime/extend-port.ts';
import { CredentialRenewal } from '../../runtime/guard/credential-renewal.ts';
import { serverOfUrl } from '../../runtime/telemetry/server-info.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';
import { openDeclaredCursor } from './cursor.ts';
import { listenOn } from './listener.ts';
import { classifyPostgresError } from './errors.ts';
import { beginStatement, postgresParsers, toPostgresValues } from './values.ts';

export type PostgresDatabase = GuardedSqlDatabase & { pool(): pg.Pool };

/** A pooled client with what the protocol's cancel request needs; `cancelled` once one was sent. */
interface ActiveClient extends pg.PoolClient {
  readonly processID: number | null;
  readonly secretKey: number | null;
  cancelled?: boolean;
}

/**
 * pg lets every part of `connectionString` override the config beside it (a URL without a password
 * overrides `password` with ''), so an explicit password goes into the URL instead.
 */
function connectionString(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  const withPassword = new URL(url);
  // pg decodes it with decodeURIComponent; the setter alone would leave `%` as it is.
  withPassword.password = encodeURIComponent(password);
  return withPassword.toString();
}

/**
 * pg's Client with a bound on connecting (pg.Client honours `connectionTimeoutMillis` itself) and,
 * for a rotating secret, the password asked at each login: a renewed one serves the next connection.
 */
function clientFor(connectTimeoutMs: number, rotating: RotatingSecret | undefined): typeof pg.Client {
  return class extends pg.Client {
    constructor(config?: pg.ClientConfig) {
      super({ ...config, connectionTimeoutMillis: connectTimeoutMs });
      // After the constructor: the connection string's parts override a password given beside it.
      if (rotating !== undefined)
        (this as unknown as { password: () => string }).password = () => rotating.reveal();
    }
  };
}

function poolConfig(options: ParsedPostgresDatabaseOptions): pg.PoolConfig {
  const rotating = options.password instanceof RotatingSecret ? options.password : undefined;
  const password = options.password instanceof Redacted ? options.password.reveal() : options.password;
  return {
    connectionString: connectionString(options.url, rotating === undefined ? password : undefined),
    // One connection more than berth lends out: a health probe never waits behind a full pool.
    max: options.poolSize + 1,
    // On the client, not the pool: pg-pool arms a timer for every checkout when it has one, and
    // berth never checks out more than the pool holds (its own queue bounds the wait).
    Client: clientFor(options.connectTimeoutMs, rotating),
    idleTimeoutMillis: 30_000,
    application_name: options.applicationName,
    ssl: options.tls
      ? nodeTlsOptions(options.tls)
      : typeof options.ssl === 'boolean'
        ? options.ssl
        : { ca: options.ssl.ca },
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

/** PostgreSQL through `pg`'s pool. A statement past its deadline is cancelled on the server. */
class PostgresAdapter implements SqlAdapter {
  readonly system = 'postgresql';
  readonly dialect = 'postgres' as const;
  readonly poolSize: number;
  readonly pool: pg.Pool;
  readonly #logger: Logger;
  readonly #config: pg.PoolConfig;
  readonly #listeners = new Set<SqlListener>();

  constructor(options: ParsedPostgresDatabaseOptions, logger: Logger) {
    this.poolSize = options.poolSize;
    this.#config = poolConfig(options);
    this.pool = new pg.Pool(this.#config);
    this.#logger = logger;
    // An idle connection that breaks emits here; without a listener it would crash the process.
    this.pool.on('error', (error) => logger.warn({ err: error }, 'idle PostgreSQL connection failed'));
    // A lent connection the network cuts emits 'error' besides failing its statement, and the pool
    // listens only to idle ones: unheard, it crashed the process (found by the chaos tests).
    this.pool.on('connect', (client) =>
      client.on('error', (error) => logger.debug({ err: error }, 'PostgreSQL connection failed')),
    );
  }

  // pg's callbacks, not its promises: a statement is one promise here instead of six, which
  // shows in the client's CPU per statement once the database answers in a fraction of a ms.
  query(statement: RenderedSql, ctx: OperationContext): Promise<SqlResult> {
    return new Promise((resolve, reject) => {
      this.pool.connect((connectError, pooled) => {
        if (connectError !== undefined || pooled === undefined)
          return reject(connectError ?? new Error('pg gave no client'));
        const client = pooled as ActiveClient;
        // Connected after the deadline went by: back to the pool unused.
        if (isAborted(ctx)) {
          client.release();
          return reject(ctx.signal.reason as Error);
        }
        this.#send(client, statement, ctx, (error, result) => {
          const broken = error !== undefined && classifyPostgresError(error).reason === 'unavailable';
          // A cancel request may land after the statement ended: the connection is not lent again.
          client.release(broken || client.cancelled === true);
          if (error !== undefined) reject(error);
          else resolve(result!);
        });
      });
    });
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

  open(statement: RenderedSql, ctx: OperationContext): Promise<SqlCursor> {
    return openDeclaredCursor(this, statement, ctx);
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

  async listen(
    channel: string,
    onNotify: (payload: string) => void,
    ctx: OperationContext,
  ): Promise<SqlListener> {
    const Client = (this.#config.Client as typeof pg.Client | undefined) ?? pg.Client;
    const listener = await listenOn(() => new Client(this.#config), channel, onNotify, ctx, this.#logger);
    this.#listeners.add(listener);
    return {
      close: () => {
        this.#listeners.delete(listener);
        return listener.close();
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#listeners].map((listener) => listener.close()));
    await this.pool.end();
  }

  /** A pooled client; one that connects after the deadline went by goes back to the pool. */
  async #connect(ctx: OperationContext): Promise<ActiveClient> {
    const client = (await this.pool.connect()) as ActiveClient;
    if (isAborted(ctx)) {
      client.release();
      throw ctx.signal.reason;
    }
    return client;
  }

  #run(client: ActiveClient, statement: RenderedSql, ctx: OperationContext): Promise<SqlResult> {
    return new Promise((resolve, reject) => {
      this.#send(client, statement, ctx, (error, result) =>
        error !== undefined ? reject(error) : resolve(result!),
      );
    });
  }

  /**
   * One statement on `client`, cancelled on the server when `ctx` aborts first. pg sends a
   * statement without parameters as a simple query: several statements may run at once.
   */
  #send(
    client: ActiveClient,
    statement: RenderedSql,
    ctx: OperationContext,
    done: (error: Error | undefined, result?: SqlResult) => void,
  ): void {
    let finished = false;
    const stopListening = onAbort(ctx, () => {
      if (!finished) this.#cancel(client);
    });
    const settle = (error: Error | undefined, result?: SqlResult): void => {
      finished = true;
      stopListening();
      done(error, result);
    };
    try {
      // Text and values apart: given a config object, pg copies it property by property per call.
      client.query<SqlRow, unknown[]>(
        statement.text,
        toPostgresValues(statement.values),
        (error: Error | undefined, result) => {
          if (error) return settle(error);
          const last = (Array.isArray(result) ? result.at(-1) : result) as pg.QueryResult<SqlRow> | undefined;
          settle(undefined, { rows: last?.rows ?? [], rowCount: last?.rowCount ?? 0 });
        },
      );
    } catch (error) {
      settle(error instanceof Error ? error : new Error(String(error)));
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
  warnIfUnverified(parsed.tls, logger);
  const adapter = new PostgresAdapter(parsed, logger);
  const server = serverOfUrl(parsed.url, 5432);
  const credentialRenewal = CredentialRenewal.of([parsed.password], logger);
  return extendPort(guardSqlDatabase(adapter, { ...parsed, server, credentialRenewal }, runtime), {
    pool: () => adapter.pool,
  });
}
