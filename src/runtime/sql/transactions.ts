import type { OperationOptions } from '../../ports/component.ts';
import { isInfraError } from '../../ports/errors.ts';
import type { SqlDialect, SqlInput, RenderedSql } from '../../ports/sql.ts';
import { backoffDelayMs } from '../guard/backoff.ts';
import type { Guard } from '../guard/guard.ts';
import { dialects } from './dialects.ts';
import type {
  SqlOperation,
  SqlResult,
  SqlRow,
  SqlSession,
  SqlTransaction,
  TransactionOptions,
} from '../../ports/sql-database.ts';

/** What a transaction needs from the port around it. */
export interface TransactionHost {
  readonly guard: Guard<SqlOperation>;
  readonly dialect: SqlDialect;
  render(operation: SqlOperation, statement: SqlInput): RenderedSql;
  /** A session on a connection of the pool's, with the slot held until `release`. */
  begin(options: TransactionOptions & { isolation: NonNullable<TransactionOptions['isolation']> }): Promise<{
    session: SqlSession;
    release: () => void;
  }>;
}

/** Whether the database said the transaction lost a race and may simply run again. */
export function isRetryableConflict(error: unknown): boolean {
  return isInfraError(error) && error.reason === 'conflict' && error.retryable;
}

/**
 * Runs `fn` in a transaction: commit when it resolves, rollback when it throws or `deadline`
 * aborts; on a deadlock or serialization failure the whole function runs again after a backoff,
 * `maxAttempts` runs at most.
 */
export async function runTransaction<T>(
  host: TransactionHost,
  fn: (tx: SqlTransaction) => Promise<T>,
  options: TransactionOptions & { isolation: NonNullable<TransactionOptions['isolation']> },
  maxAttempts: number,
  deadline: AbortSignal,
): Promise<T> {
  const { guard } = host;
  for (let attempt = 1; ; attempt++) {
    try {
      return await attemptTransaction(host, fn, options, deadline);
    } catch (error) {
      if (attempt >= maxAttempts || !isRetryableConflict(error) || deadline.aborted) throw error;
      guard.countRetry('transaction');
      const delayMs = backoffDelayMs({ ...guard.policies.retry, jitter: 'half' }, attempt - 1);
      guard.logger.debug({ attempt, delayMs, err: error }, 'transaction conflict, running it again');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

async function attemptTransaction<T>(
  host: TransactionHost,
  fn: (tx: SqlTransaction) => Promise<T>,
  options: TransactionOptions & { isolation: NonNullable<TransactionOptions['isolation']> },
  deadline: AbortSignal,
): Promise<T> {
  const { guard } = host;
  const { session, release } = await host.begin({ ...options, signal: deadline });
  const scope = new TransactionScope(host, session, deadline);
  let broken = false;
  try {
    const result = await untilAborted(fn(scope.handle()), deadline);
    scope.end();
    await guard.run('commit', { signal: deadline }, (ctx) => session.commit(ctx));
    return result;
  } catch (error) {
    scope.end();
    broken = !(await rollback(guard, session));
    throw deadline.aborted && !isInfraError(error) ? (deadline.reason as unknown) : error;
  } finally {
    session.release(broken);
    release();
  }
}

/** True when the rollback went through; a connection whose rollback failed is not reused. */
async function rollback(guard: Guard<SqlOperation>, session: SqlSession): Promise<boolean> {
  try {
    await guard.run('rollback', { timeoutMs: guard.policies.timeoutMs }, (ctx) => session.rollback(ctx));
    return true;
  } catch (error) {
    guard.logger.warn({ err: error }, 'rollback failed; the connection is closed');
    return false;
  }
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The statements of one transaction: refused once it has ended, savepoints numbered. */
class TransactionScope {
  readonly #host: TransactionHost;
  readonly #session: SqlSession;
  readonly #deadline: AbortSignal;
  #ended = false;
  #savepoints = 0;

  constructor(host: TransactionHost, session: SqlSession, deadline: AbortSignal) {
    this.#host = host;
    this.#session = session;
    this.#deadline = deadline;
  }

  end(): void {
    this.#ended = true;
  }

  handle(): SqlTransaction {
    const tx: SqlTransaction = {
      dialect: this.#host.dialect,
      query: <Row extends object = SqlRow>(statement: SqlInput, opts?: OperationOptions) =>
        this.#run('query', statement, opts).then((result) => result.rows as Row[]),
      execute: (statement: SqlInput, opts?: OperationOptions) =>
        this.#run('execute', statement, opts).then((result) => result.rowCount),
      transaction: <T>(fn: (inner: SqlTransaction) => Promise<T>) => this.#savepoint(fn, tx),
    };
    return tx;
  }

  async #run(
    operation: 'query' | 'execute',
    statement: SqlInput,
    opts: OperationOptions | undefined,
  ): Promise<SqlResult> {
    const { guard } = this.#host;
    if (this.#ended) throw guard.error('closed', operation, 'the transaction has ended');
    const rendered = this.#host.render(operation, statement);
    const signal = opts?.signal ? AbortSignal.any([opts.signal, this.#deadline]) : this.#deadline;
    const timeout = opts?.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs };
    return guard.run(operation, { signal, ...timeout }, (ctx) => this.#session.query(rendered, ctx));
  }

  async #savepoint<T>(fn: (tx: SqlTransaction) => Promise<T>, tx: SqlTransaction): Promise<T> {
    const statements = dialects[this.#host.dialect];
    const name = `berth_savepoint_${++this.#savepoints}`;
    await this.#run('execute', { text: statements.savepoint(name) }, undefined);
    let result: T;
    try {
      result = await fn(tx);
    } catch (error) {
      if (!this.#ended) await this.#run('execute', { text: statements.rollbackToSavepoint(name) }, undefined);
      throw error;
    }
    const release = statements.releaseSavepoint?.(name);
    if (release !== undefined) await this.#run('execute', { text: release }, undefined);
    return result;
  }
}
