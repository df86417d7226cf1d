import type {
  Component,
  HealthResult,
  OperationContext,
  OperationOptions,
  OperationSpecs,
  PortDefinition,
} from './component.ts';
import type { ErrorClassification } from './errors.ts';
import type { RenderedSql, SqlDialect, SqlInput } from './sql.ts';

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';
export const isolationLevels: readonly IsolationLevel[] = [
  'read committed',
  'repeatable read',
  'serializable',
];

/** A row as the adapter decoded it; the caller names its type. */
export type SqlRow = Record<string, unknown>;

/** Statements that run alone (on a pooled connection) or inside a transaction. */
export interface SqlExecutor {
  readonly dialect: SqlDialect;
  /** The rows of a statement (the last result set when there are several). */
  query<Row extends object = SqlRow>(statement: SqlInput, options?: OperationOptions): Promise<Row[]>;
  /** Rows affected. */
  execute(statement: SqlInput, options?: OperationOptions): Promise<number>;
}

export interface SqlTransaction extends SqlExecutor {
  /** A savepoint: rolled back alone when `fn` throws, released when it resolves. */
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T>;
}

export interface TransactionOptions extends OperationOptions {
  /** Default `read committed`. */
  isolation?: IsolationLevel;
  /**
   * Runs of `fn` at most when the database reports a deadlock or a serialization failure (the
   * whole function runs again, after a backoff); default 5, 1 turns retries off.
   */
  maxAttempts?: number;
}

export interface StreamOptions extends OperationOptions {
  /** Rows fetched per round trip (each batch has its own deadline); default 1,000, at most 10,000. */
  batchSize?: number;
}

export interface Migration {
  /** Unique and ordered by the list: `001_create_greetings`. */
  id: string;
  /** The statements, or one text per dialect for a list shared by several databases. */
  sql: string | Partial<Record<SqlDialect, string>>;
}

/** A channel listened to; `close()` stops it. */
export interface SqlListener {
  close(): Promise<void>;
}

export interface MigrationReport {
  /** Ids applied by this call, in order. */
  applied: string[];
  /** Ids found applied already (with the same checksum). */
  alreadyApplied: string[];
}

/**
 * A relational database: parameterized statements only (the `sql` tag), transactions that
 * retry on deadlocks and serialization failures, streamed reads, and migrations applied once
 * under a database lock.
 */
export interface SqlDatabase extends Component, SqlExecutor {
  /** Rows fetched in batches on one connection: memory stays flat over millions of rows. */
  stream<Row extends object = SqlRow>(statement: SqlInput, options?: StreamOptions): AsyncIterable<Row>;
  /** Commits when `fn` resolves, rolls back when it throws or the deadline passes. */
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Applies the migrations not applied yet, each in its own transaction, under a database lock,
   * recording each with a checksum; refuses (`conflict`) one that was applied with other text.
   */
  migrate(migrations: readonly Migration[], options?: OperationOptions): Promise<MigrationReport>;
  /**
   * Calls `onNotify` for each notification on `channel` (PostgreSQL `LISTEN`/`NOTIFY`), on a
   * connection of its own that is made again when it breaks; resolves once listening. Absent
   * where the database has no notifications (SQL Server).
   */
  listen?:
    | ((
        channel: string,
        onNotify: (payload: string) => void,
        options?: OperationOptions,
      ) => Promise<SqlListener>)
    | undefined;
}

export type SqlOperation =
  'query' | 'execute' | 'stream' | 'begin' | 'commit' | 'rollback' | 'migrate' | 'listen';

// A statement may insert or update: nothing is repeated after a failure, except a whole
// transaction on the database's own word that it did not commit (deadlock, serialization).
export const sqlOperations: OperationSpecs<SqlOperation> = {
  query: { idempotent: false },
  execute: { idempotent: false },
  stream: { idempotent: false },
  begin: { idempotent: true },
  commit: { idempotent: false },
  rollback: { idempotent: false },
  migrate: { idempotent: false },
  listen: { idempotent: true },
};

// PostgreSQL in the process (PGlite) stands in for a database server.
export const sqlDatabasePort: PortDefinition<SqlOperation> = {
  key: 'sql',
  name: 'sql-database',
  idPrefix: 'sql',
  envPrefix: 'SQL',
  critical: true,
  inMemoryDriver: 'embedded',
  operations: sqlOperations,
};

export interface SqlResult {
  rows: SqlRow[];
  /** Rows affected, or returned for a SELECT. */
  rowCount: number;
}

/** One connection held for a transaction or a stream. */
export interface SqlSession {
  query(statement: RenderedSql, ctx: OperationContext): Promise<SqlResult>;
  commit(ctx: OperationContext): Promise<void>;
  /** Must settle even when the connection is gone (then it is released as broken). */
  rollback(ctx: OperationContext): Promise<void>;
  /** Gives the connection back; `broken` closes it instead. Idempotent. */
  release(broken: boolean): void;
}

/** Rows of one statement, batch by batch, on a connection of its own. */
export interface SqlCursor {
  /** Up to `count` rows; an empty array once the rows are exhausted. */
  next(count: number, ctx: OperationContext): Promise<SqlRow[]>;
  /** Ends the statement and gives the connection back; `broken` closes it. Idempotent. */
  close(broken: boolean): Promise<void>;
}

export interface SqlPoolStatus {
  size: number;
  idle: number;
  busy: number;
}

/**
 * What an SQL backend implements; berth builds the `SqlDatabase` port around it once (rendering,
 * the connection limit and its bounded queue, transactions, retries of conflicts, migrations,
 * guard). Statements arrive rendered in the adapter's dialect.
 */
export interface SqlAdapter {
  /** As OpenTelemetry's `db.system.name`: `postgresql`, `microsoft.sql_server`. */
  readonly system: string;
  readonly dialect: SqlDialect;
  /** Connections at most: berth never asks for more at once, so the driver's pool never queues. */
  readonly poolSize: number;
  query(statement: RenderedSql, ctx: OperationContext): Promise<SqlResult>;
  begin(isolation: IsolationLevel, ctx: OperationContext): Promise<SqlSession>;
  /** Starts a statement whose rows are read with `next`. */
  open(statement: RenderedSql, ctx: OperationContext): Promise<SqlCursor>;
  poolStatus(): SqlPoolStatus;
  /** Work to do before the first call rather than in it (PGlite loads its WebAssembly), run by `start()`. */
  start?(): Promise<void>;
  probe(signal: AbortSignal): Promise<HealthResult>;
  classifyError(error: unknown): ErrorClassification;
  close(): Promise<void>;
  /** LISTEN on `channel` (see SqlDatabase.listen), where the database has notifications. */
  listen?(channel: string, onNotify: (payload: string) => void, ctx: OperationContext): Promise<SqlListener>;
}
