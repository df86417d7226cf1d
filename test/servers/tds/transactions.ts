// Transactions of a session, whether begun with transaction-manager requests (tedious's
// beginTransaction) or with BEGIN TRANSACTION: @@TRANCOUNT nesting, savepoints, and the
// ENVCHANGE 8/9/10 tokens with the 8-byte descriptor the client sends back in ALL_HEADERS.
// SQLite's own BEGIN waits for the first statement, which takes the database's lock; the
// lock is held until COMMIT or ROLLBACK (or until the connection closes).
import type { Database } from './engine.ts';
import { sqlErrors, TdsError } from './errors.ts';
import type { ResponseWriter } from './packets.ts';
import { quoteIdentifier } from './render.ts';
import type { SessionState, Transaction } from './session-state.ts';
import { EnvChange, envChangeBinary } from './tokens.ts';

const NONE = Buffer.alloc(0);
let lastDescriptor = 0n;

export function beginTransaction(state: SessionState, writer: ResponseWriter, name: string): void {
  if (state.transaction) {
    state.transaction.depth++;
    return;
  }
  const descriptor = Buffer.alloc(8);
  descriptor.writeBigUInt64LE(++lastDescriptor);
  state.transaction = { depth: 1, name, descriptor, started: false, database: undefined, savepoints: [] };
  writer.write(envChangeBinary(EnvChange.BEGIN_TRANSACTION, descriptor, NONE));
}

export function commitTransaction(state: SessionState, writer: ResponseWriter): void {
  const transaction = state.transaction;
  if (!transaction) throw sqlErrors.noTransaction('COMMIT');
  if (transaction.depth > 1) {
    transaction.depth--;
    return;
  }
  if (transaction.database?.sqlite.isTransaction) transaction.database.sqlite.exec('COMMIT');
  end(state, transaction);
  writer.write(envChangeBinary(EnvChange.COMMIT_TRANSACTION, NONE, transaction.descriptor));
}

/** ROLLBACK [name]: to a savepoint when `name` is one, else the whole transaction. */
export function rollbackTransaction(
  state: SessionState,
  writer: ResponseWriter | undefined,
  name: string,
): void {
  const transaction = state.transaction;
  if (!transaction) throw sqlErrors.noTransaction('ROLLBACK');
  if (name && name.toLowerCase() !== transaction.name.toLowerCase()) {
    const index = transaction.savepoints.findLastIndex(
      (savepoint) => savepoint.toLowerCase() === name.toLowerCase(),
    );
    if (index < 0) throw sqlErrors.noSavepoint(name);
    if (transaction.database?.sqlite.isTransaction) {
      transaction.database.sqlite.exec(`ROLLBACK TO ${quoteIdentifier(name)}`);
    }
    transaction.savepoints.length = index + 1;
    return;
  }
  if (transaction.database?.sqlite.isTransaction) transaction.database.sqlite.exec('ROLLBACK');
  end(state, transaction);
  writer?.write(envChangeBinary(EnvChange.ROLLBACK_TRANSACTION, NONE, transaction.descriptor));
}

export async function saveTransaction(
  state: SessionState,
  name: string,
  lock: () => Promise<Database>,
): Promise<void> {
  const transaction = state.transaction;
  if (!transaction) {
    throw new TdsError(628, 'Cannot issue SAVE TRANSACTION when there is no active transaction.', 16, 1);
  }
  const database = await lock();
  if (!transaction.started) {
    database.sqlite.exec('BEGIN');
    transaction.started = true;
    transaction.database = database;
  }
  database.sqlite.exec(`SAVEPOINT ${quoteIdentifier(name)}`);
  transaction.savepoints.push(name);
}

/** Releases the database lock and the transaction's application locks. */
function end(state: SessionState, transaction: Transaction): void {
  state.transaction = undefined;
  if (transaction.database) state.engine.locks.release(transaction.database.lock, state, true);
  state.engine.locks.releaseOwner(transaction);
}
