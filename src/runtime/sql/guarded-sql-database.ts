import type { OperationContext, OperationOptions } from '../../ports/component.ts';
import { isInfraError } from '../../ports/errors.ts';
import {
  isolationLevels,
  sqlOperations,
  type Migration,
  type SqlAdapter,
  type SqlCursor,
  type SqlDatabase,
  type SqlOperation,
  type SqlRow,
  type SqlSession,
  type SqlTransaction,
  type StreamOptions,
  type TransactionOptions,
} from '../../ports/sql-database.ts';
import { checkValue, isSqlStatement, renderSql, type RenderedSql, type SqlInput } from '../../ports/sql.ts';
import { budgetOf } from '../guard/call-budget.ts';
import { ConcurrencyLimit } from '../guard/concurrency-limit.ts';
import { Guard, type GuardedOptions, type GuardedPort } from '../guard/guard.ts';
import { rejecting } from '../guard/rejecting.ts';
import type { Runtime } from '../runtime.ts';
import { dbClientOperationDuration } from '../telemetry/semconv.ts';
import { applyMigrations, readMigrationsDirectory } from './migrations.ts';
import { runTransaction, type TransactionHost } from './transactions.ts';

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
  port: 'sql-database',
  idPrefix: 'sql',
  operations: sqlOperations,
  metrics: dbClientOperationDuration,
};

const ignore = (): void => undefined;
// What a caller waiting for a connection is rejected with past `acquireTimeoutMs`, then reported as `timeout`.
const slotWaitExpired = new Error('no connection was free in time');
const defaultBatchSize = 1_000;
const maxBatchSize = 10_000;
const identifierPattern = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

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
  const guard = Guard.forAdapter(sqlPort, adapter, options, runtime);
  const budgetMs = guard.policies.totalTimeoutMs ?? guard.policies.timeoutMs;
  // A wait for a connection is part of a call's budget: never longer than the budget itself.
  const acquireTimeoutMs = Math.min(options.acquireTimeoutMs ?? 1_000, budgetMs);
  // One timer for the whole queue: every caller waits as long, so they expire oldest first.
  const limit = new ConcurrencyLimit(adapter.poolSize, options.maxWaiting ?? 1_000, {
    maxWaitMs: acquireTimeoutMs,
    expired: () => slotWaitExpired,
  });
  const transactionTimeoutMs = options.transactionTimeoutMs ?? 30_000;
  const migrationsTable = options.migrationsTable ?? 'berth_migrations';
  if (!identifierPattern.test(migrationsTable)) {
    throw guard.invalid('options', 'migrationsTable', 'expected letters, digits and _, at most 63');
  }

  // The checks of src/ports/sql.ts know no component: their validation errors get this port's id and operation.
  function render(operation: SqlOperation, statement: SqlInput): RenderedSql {
    try {
      if (isSqlStatement(statement)) return renderSql(statement, adapter.dialect);
      const text: unknown = (statement as { text?: unknown } | null)?.text;
      const values: unknown = statement?.values ?? [];
      if (typeof text !== 'string' || text.trim() === '' || !Array.isArray(values)) {
        throw guard.invalid(
          operation,
          'statement',
          'expected sql`…`, or { text, values } with the text non-empty and values an array',
        );
      }
      return { text, values: values.map((value, index) => checkValue(value, index + 1)) };
    } catch (error) {
      if (isInfraError(error) && error.reason === 'validation' && error.operation === undefined)
        throw guard.invalid(operation, 'statement', error.message, { cause: error });
      throw error;
    }
  }

  /**
   * Holds one of the pool's slots, waiting `acquireTimeoutMs` at most. No timer or signal per
   * call: they cost more client CPU than pg's own work for a statement on a local server.
   */
  async function acquire(operation: SqlOperation, signal: AbortSignal | undefined): Promise<() => void> {
    if (guard.closed) throw guard.error('closed', operation, 'component is closed');
    // With a slot free no caller waits (a released slot goes to the first waiter): taken at once.
    if (limit.running < limit.concurrency) void limit.acquire();
    else await waitForSlot(operation, signal);
    let held = true;
    return () => {
      if (held) limit.release();
      held = false;
    };
  }

  async function waitForSlot(operation: SqlOperation, signal: AbortSignal | undefined): Promise<void> {
    const wait = limit.acquire(signal);
    if (wait === undefined) {
      throw guard.error(
        'rate_limited',
        operation,
        `${limit.maxQueued} calls already wait for one of ${limit.concurrency} connections`,
      );
    }
    try {
      await wait;
    } catch (error) {
      if (error !== slotWaitExpired) throw error; // the caller's abort, or the port closing
      throw guard.error(
        'timeout',
        operation,
        `no connection of ${limit.concurrency} was free within ${acquireTimeoutMs} ms`,
      );
    }
  }

  /** One statement on a pooled connection; the slot is given back when the driver is done with it. */
  async function pooled<T>(
    operation: 'query' | 'execute',
    statement: SqlInput,
    opts: OperationOptions | undefined,
    map: (result: { rows: SqlRow[]; rowCount: number }) => T,
  ): Promise<T> {
    const rendered = render(operation, statement);
    const waitStarted = limit.running < limit.concurrency ? undefined : performance.now();
    const release = await acquire(operation, opts?.signal);
    let running: Promise<unknown> | undefined;
    try {
      return await guard.run(
        operation,
        waitStarted === undefined ? opts : leftAfterWait(operation, opts, performance.now() - waitStarted),

        (ctx) => {
          const call = adapter.query(rendered, ctx);
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

  /** A call that waited for a connection gets what is left of its budget (`totalTimeoutMs`). */
  function leftAfterWait(
    operation: SqlOperation,
    opts: OperationOptions | undefined,
    waitedMs: number,
  ): OperationOptions {
    const leftMs = Math.floor(budgetOf(opts, budgetMs) - waitedMs);
    if (leftMs <= 0) {
      throw guard.error(
        'timeout',
        operation,
        `the budget was used up waiting ${Math.round(waitedMs)} ms for a connection`,
      );
    }
    return { ...opts, totalTimeoutMs: leftMs };
  }

  const host: TransactionHost = {
    guard,
    dialect: adapter.dialect,
    render,
    async begin(txOptions) {
      const release = await acquire('begin', txOptions.signal);
      // An attempt the deadline gave up on may still get its connection: that one is closed.
      const attempts: Promise<SqlSession>[] = [];
      const discardOthers = (kept?: SqlSession): void => {
        for (const attempt of attempts) {
          attempt.then((session) => session !== kept && session.release(true), ignore);
        }
      };
      try {
        const session = await guard.run('begin', txOptions, (ctx: OperationContext) => {
          const attempt = adapter.begin(txOptions.isolation, ctx);
          attempts.push(attempt);
          return attempt;
        });
        discardOthers(session);
        return { session, release };
      } catch (error) {
        discardOthers();
        release();
        throw error;
      }
    },
  };

  function transaction<T>(fn: (tx: SqlTransaction) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    return rejecting(() => {
      const isolation = opts.isolation ?? 'read committed';
      if (!isolationLevels.includes(isolation)) {
        throw guard.invalid('begin', 'isolation', `expected one of ${isolationLevels.join(', ')}`);
      }
      const maxAttempts = opts.maxAttempts ?? 5;
      if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 100) {
        throw guard.invalid('begin', 'maxAttempts', 'expected a whole number from 1 to 100');
      }
      if (typeof fn !== 'function') throw guard.invalid('begin', 'fn', 'expected a function');
      const timeoutMs = opts.timeoutMs ?? transactionTimeoutMs;
      const expiry = AbortSignal.timeout(timeoutMs);
      const deadline = opts.signal ? AbortSignal.any([opts.signal, expiry]) : expiry;
      return runTransaction(host, fn, { ...opts, isolation }, maxAttempts, deadline).catch(
        (error: unknown) => {
          if (expiry.aborted && !opts.signal?.aborted && error === expiry.reason) {
            throw guard.error('timeout', 'commit', `the transaction ran past its ${timeoutMs} ms deadline`);
          }
          throw error;
        },
      );
    });
  }

  async function* stream<Row extends object>(
    statement: SqlInput,
    opts: StreamOptions = {},
  ): AsyncGenerator<Row, void, undefined> {
    const rendered = render('stream', statement);
    const batchSize = opts.batchSize ?? defaultBatchSize;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > maxBatchSize) {
      throw guard.invalid('stream', 'batchSize', `expected a whole number from 1 to ${maxBatchSize}`);
    }
    const release = await acquire('stream', opts.signal);
    let cursor: SqlCursor | undefined;
    let broken = true;
    try {
      let opening: Promise<SqlCursor> | undefined;
      const open = await guard
        .run('stream', opts, (ctx) => (opening = adapter.open(rendered, ctx)))
        .catch((error: unknown) => {
          opening?.then((late) => late.close(true), ignore);
          throw error;
        });
      cursor = open;
      for (;;) {
        const rows = await guard.run('stream', opts, (ctx) => open.next(batchSize, ctx));
        if (rows.length === 0) break;
        for (const row of rows) yield row as Row;
      }
      broken = false;
    } finally {
      // A consumer that stops early (break) leaves the statement unfinished: the cursor ends it.
      await cursor?.close(broken && !guard.closed).catch((error: unknown) => {
        guard.logger.warn({ err: error }, 'closing a stream failed');
      });
      release();
    }
  }

  const database: GuardedSqlDatabase = {
    ...guard.component(
      {
        probe: async (signal) => {
          const result = await adapter.probe(signal);
          const pool = { ...adapter.poolStatus(), waiting: limit.queued, limit: limit.concurrency };
          return { ...result, details: { ...result.details, pool } };
        },
        close: () => adapter.close(),
      },
      () => limit.rejectQueued(guard.error('closed', 'close', 'component is closed')),
    ),
    dialect: adapter.dialect,
    query: <Row extends object = SqlRow>(statement: SqlInput, opts?: OperationOptions) =>
      rejecting(() => pooled('query', statement, opts, (result) => result.rows as Row[])),
    execute: (statement: SqlInput, opts?: OperationOptions) =>
      rejecting(() => pooled('execute', statement, opts, (result) => result.rowCount)),
    stream: <Row extends object = SqlRow>(statement: SqlInput, opts?: StreamOptions) =>
      stream<Row>(statement, opts),
    transaction,
    migrate: (migrations, opts) =>
      rejecting(() =>
        applyMigrations(
          { guard, dialect: adapter.dialect, table: migrationsTable, transaction },
          migrations,
          opts,
        ),
      ),
    async start(opts?: OperationOptions): Promise<void> {
      await adapter.start?.();
      const directory = options.migrationsDirectory;
      const migrations = [
        ...(options.migrations ?? []),
        ...(directory === undefined ? [] : await readMigrationsDirectory(directory)),
      ];
      if (migrations.length > 0) await database.migrate(migrations, opts);
    },
  };
  return database;
}
