import type { HealthResult, OperationContext, OperationOptions } from '../../ports/component.ts';
import {
  sqlDatabasePort,
  type Migration,
  type MigrationReport,
  type SqlAdapter,
  type SqlDatabase,
  type SqlOperation,
  type SqlRow,
  type SqlTransaction,
  type StreamOptions,
  type TransactionOptions,
} from '../../ports/sql-database.ts';
import type { SqlInput } from '../../ports/sql.ts';
import { Guard, type GuardedOptions, type GuardedPort } from '../guard/guard.ts';
import { GuardedComponent } from '../guard/guarded-component.ts';
import { rejecting } from '../guard/rejecting.ts';
import type { Runtime } from '../runtime.ts';
import { dbClientOperationDuration } from '../telemetry/semconv.ts';
import { ConnectionSlots } from './connection-slots.ts';
import { applyMigrations, readMigrationsDirectory } from './migrations.ts';
import { PooledTransactions } from './pooled-transactions.ts';
import { streamRows, type StreamHost } from './sql-stream.ts';
import { renderStatement } from './statement-rendering.ts';

export interface GuardedSqlDatabaseOptions extends GuardedOptions {
  /** How long a call waits for a free connection before `timeout` (default 1,000 ms, at most the call budget); the wait counts against the call's budget. */
  acquireTimeoutMs?: number | undefined;
  /** Callers waiting for a connection at most; one more gets `rate_limited` at once. Default 1,000. */
  maxWaiting?: number | undefined;
  /** Deadline of a whole transaction (statements keep their own); default 30,000 ms. */
  transactionTimeoutMs?: number | undefined;
  /** Applied by `start()` (so by `infra.start()`). */
  migrations?: readonly Migration[] | undefined;
  /** A folder of `*.sql` files applied by `start()` after `migrations`, in file-name order. */
  migrationsDirectory?: string | undefined;
  /** Table recording applied migrations; default `berth_migrations`. */
  migrationsTable?: string | undefined;
}

/** The port, with `start()` readying the adapter and applying the configured migrations. */
export type GuardedSqlDatabase = SqlDatabase & { start(options?: OperationOptions): Promise<void> };

const sqlPort: GuardedPort<SqlOperation> = {
  port: sqlDatabasePort.name,
  idPrefix: sqlDatabasePort.idPrefix,
  operations: sqlDatabasePort.operations,
  metrics: dbClientOperationDuration,
};

const identifierPattern = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

type Rows = { rows: SqlRow[]; rowCount: number };

/**
 * Builds the `SqlDatabase` port around a backend once for every adapter: statements rendered
 * with their parameters checked before any I/O, at most `poolSize` connections in use with a
 * bounded queue and wait, transactions with retries of conflicts, streams batch by batch (a
 * deadline per batch), migrations, and `guard()`.
 */
export function guardSqlDatabase(
  adapter: SqlAdapter,
  options: GuardedSqlDatabaseOptions,
  runtime: Runtime,
): GuardedSqlDatabase {
  return new GuardedSql(Guard.forAdapter(sqlPort, adapter, options, runtime), adapter, options);
}

class GuardedSql extends GuardedComponent<SqlOperation> implements GuardedSqlDatabase {
  readonly dialect: SqlDatabase['dialect'];
  readonly #guard: Guard<SqlOperation>;
  readonly #adapter: SqlAdapter;
  readonly #options: GuardedSqlDatabaseOptions;
  readonly #slots: ConnectionSlots;
  readonly #transactions: PooledTransactions;
  readonly #migrationsTable: string;
  readonly #streams: StreamHost;

  constructor(guard: Guard<SqlOperation>, adapter: SqlAdapter, options: GuardedSqlDatabaseOptions) {
    super(guard);
    this.dialect = adapter.dialect;
    this.#guard = guard;
    this.#adapter = adapter;
    this.#options = options;
    const slots = new ConnectionSlots(
      guard,
      adapter.poolSize,
      options.maxWaiting ?? 1_000,
      options.acquireTimeoutMs ?? 1_000,
    );
    this.#slots = slots;
    this.#transactions = new PooledTransactions(
      guard,
      adapter,
      slots,
      options.transactionTimeoutMs ?? 30_000,
    );
    this.#streams = { guard, adapter, slots };
    this.listen = this.#listener();
    this.#migrationsTable = options.migrationsTable ?? 'berth_migrations';
    if (!identifierPattern.test(this.#migrationsTable)) {
      throw guard.invalid('options', 'migrationsTable', 'expected letters, digits and _, at most 63');
    }
  }

  readonly query = <Row extends object = SqlRow>(
    statement: SqlInput,
    opts?: OperationOptions,
  ): Promise<Row[]> =>
    rejecting(() => this.#pooled('query', statement, opts, (result) => result.rows as Row[]));

  readonly execute = (statement: SqlInput, opts?: OperationOptions): Promise<number> =>
    rejecting(() => this.#pooled('execute', statement, opts, (result) => result.rowCount));

  readonly stream = <Row extends object = SqlRow>(
    statement: SqlInput,
    opts?: StreamOptions,
  ): AsyncGenerator<Row, void, undefined> => streamRows<Row>(this.#streams, statement, opts);

  readonly transaction = <T>(fn: (tx: SqlTransaction) => Promise<T>, opts?: TransactionOptions): Promise<T> =>
    this.#transactions.run(fn, opts);

  // Present only where the adapter can listen, so `db.listen?.(…)` tells the two apart.
  readonly listen: SqlDatabase['listen'];

  #listener(): SqlDatabase['listen'] {
    const adapter = this.#adapter;
    if (adapter.listen === undefined) return undefined;
    return (channel, onNotify, opts) =>
      rejecting(() => {
        if (typeof channel !== 'string' || !identifierPattern.test(channel))
          throw this.#guard.invalid('listen', 'channel', 'expected letters, digits and _, at most 63');
        if (typeof onNotify !== 'function')
          throw this.#guard.invalid('listen', 'onNotify', 'must be a function');
        return this.#guard.run('listen', opts ?? {}, (ctx) => adapter.listen!(channel, onNotify, ctx));
      });
  }

  readonly migrate = (migrations: readonly Migration[], opts?: OperationOptions): Promise<MigrationReport> =>
    rejecting(() =>
      applyMigrations(
        {
          guard: this.#guard,
          dialect: this.dialect,
          table: this.#migrationsTable,
          transaction: this.transaction,
        },
        migrations,
        opts,
      ),
    );

  readonly start = async (opts?: OperationOptions): Promise<void> => {
    await this.#adapter.start?.();
    const directory = this.#options.migrationsDirectory;
    const migrations = [
      ...(this.#options.migrations ?? []),
      ...(directory === undefined ? [] : await readMigrationsDirectory(directory)),
    ];
    if (migrations.length > 0) await this.migrate(migrations, opts);
  };

  protected override async probe(signal: AbortSignal): Promise<HealthResult> {
    const result = await this.#adapter.probe(signal);
    const pool = { ...this.#adapter.poolStatus(), ...this.#slots.status };
    return { ...result, details: { ...result.details, pool } };
  }

  protected override closeAdapter(): Promise<void> {
    return this.#adapter.close();
  }

  protected override beforeClose(): void {
    this.#slots.rejectQueued(this.#guard.error('closed', 'close', 'component is closed'));
  }

  /** One statement on a pooled connection; the slot is given back when the driver is done with it. */
  async #pooled<T>(
    operation: 'query' | 'execute',
    statement: SqlInput,
    opts: OperationOptions | undefined,
    map: (result: Rows) => T,
  ): Promise<T> {
    const rendered = renderStatement(this.#guard, this.dialect, operation, statement);
    const slots = this.#slots;
    const waitStarted = slots.waitStarted();
    const release = await slots.acquire(operation, opts?.signal);
    let running: Promise<unknown> | undefined;
    try {
      return await this.#guard.run(
        operation,
        waitStarted === undefined
          ? opts
          : slots.leftAfterWait(operation, opts, performance.now() - waitStarted),
        (ctx: OperationContext) => {
          const call = this.#adapter.query(rendered, ctx);
          running = call;
          return call;
        },
        map,
      );
    } finally {
      if (running === undefined) release();
      else running.then(release, release);
    }
  }
}
