import type { OperationContext } from '../../ports/component.ts';
import {
  isolationLevels,
  type SqlAdapter,
  type SqlOperation,
  type SqlSession,
  type SqlTransaction,
  type TransactionOptions,
} from '../../ports/sql-database.ts';
import type { RenderedSql, SqlDialect, SqlInput } from '../../ports/sql.ts';
import type { Guard } from '../guard/guard.ts';
import { rejecting } from '../guard/rejecting.ts';
import type { ConnectionSlots } from './connection-slots.ts';
import { renderStatement } from './statement-rendering.ts';
import { runTransaction, type TransactionHost } from './transactions.ts';

const ignore = (): void => undefined;

type Begin = TransactionHost['begin'];

/**
 * `transaction()` on the pool: options checked, a deadline for the whole transaction, and each
 * attempt's session begun on a connection whose slot is held until the transaction ends.
 */
export class PooledTransactions implements TransactionHost {
  readonly guard: Guard<SqlOperation>;
  readonly dialect: SqlDialect;
  readonly #adapter: SqlAdapter;
  readonly #slots: ConnectionSlots;
  readonly #timeoutMs: number;

  constructor(guard: Guard<SqlOperation>, adapter: SqlAdapter, slots: ConnectionSlots, timeoutMs: number) {
    this.guard = guard;
    this.dialect = adapter.dialect;
    this.#adapter = adapter;
    this.#slots = slots;
    this.#timeoutMs = timeoutMs;
  }

  render(operation: SqlOperation, statement: SqlInput): RenderedSql {
    return renderStatement(this.guard, this.dialect, operation, statement);
  }

  async begin(txOptions: Parameters<Begin>[0]): ReturnType<Begin> {
    const release = await this.#slots.acquire('begin', txOptions.signal);
    // An attempt the deadline gave up on may still get its connection: that one is closed.
    const attempts: Promise<SqlSession>[] = [];
    const discardOthers = (kept?: SqlSession): void => {
      for (const attempt of attempts) {
        attempt.then((session) => session !== kept && session.release(true), ignore);
      }
    };
    try {
      const session = await this.guard.run('begin', txOptions, (ctx: OperationContext) => {
        const attempt = this.#adapter.begin(txOptions.isolation, ctx);
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
  }

  run<T>(fn: (tx: SqlTransaction) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    const { guard } = this;
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
      const timeoutMs = opts.timeoutMs ?? this.#timeoutMs;
      const expiry = AbortSignal.timeout(timeoutMs);
      const deadline = opts.signal ? AbortSignal.any([opts.signal, expiry]) : expiry;
      return runTransaction(this, fn, { ...opts, isolation }, maxAttempts, deadline).catch(
        (error: unknown) => {
          if (expiry.aborted && !opts.signal?.aborted && error === expiry.reason) {
            throw guard.error('timeout', 'commit', `the transaction ran past its ${timeoutMs} ms deadline`);
          }
          throw error;
        },
      );
    });
  }
}
