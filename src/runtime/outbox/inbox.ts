import { createHash } from 'node:crypto';
import type { MessageHandler, ReceivedMessage } from '../../ports/broker.ts';
import type { Migration, SqlDatabase, SqlTransaction, TransactionOptions } from '../../ports/sql-database.ts';
import { sql, type SqlDialect, type SqlStatement } from '../../ports/sql.ts';
import { ComponentErrors } from '../guard/component-errors.ts';
import { defaultRuntime, type Runtime } from '../runtime.ts';
import type { Outbox, OutboxTransaction } from './outbox.ts';

export interface InboxOptions {
  /** The database of the handlers' effects. */
  sql: SqlDatabase;
  /** Its table of received message ids; default `berth_inbox`. */
  table?: string;
  /** How long an id is remembered (a redelivery later than this runs again); default 7 days. */
  retentionMs?: number;
  /** When given, the handler's transaction can also `publish` through it (consume, then produce, at once). */
  outbox?: Outbox;
  /** Options of each handler's transaction: isolation, attempts on conflicts. */
  transaction?: TransactionOptions;
  runtime?: Runtime;
}

/** A handler whose effects commit with the record that the message was handled. */
export type InboxHandler<T> = (
  message: ReceivedMessage<T>,
  tx: OutboxTransaction,
  signal: AbortSignal,
) => Promise<void>;

/**
 * An idempotent inbox: each message id is recorded, per consumer, in the transaction of the
 * handler's effects, so a redelivered message changes nothing; it is acknowledged without
 * running the handler. Effects outside the transaction (an HTTP call) are not covered.
 */
export interface Inbox {
  readonly migrations: readonly Migration[];
  /** The handler to subscribe: `consumer` names whose ids these are (one group, one purpose). */
  handler<T>(consumer: string, handle: InboxHandler<T>): MessageHandler<T>;
  /** Forgets ids older than the retention; done by the handlers about every tenth of it too. */
  purge(): Promise<number>;
  /** Messages found already handled, per consumer, since this inbox was made. */
  readonly duplicates: ReadonlyMap<string, number>;
}

const tablePattern = /^[A-Za-z_][A-Za-z0-9_]{0,40}$/;
const consumerPattern = /^[A-Za-z0-9._:-]{1,200}$/;
// Longer ids are kept as their hash: SQL Server's index keys hold 900 bytes.
const maxIdLength = 200;

export function createInbox(options: InboxOptions): Inbox {
  const errors = new ComponentErrors('inbox', 'inbox', 'inbox', () => ({ reason: 'internal' }));
  const table = options.table ?? 'berth_inbox';
  if (!tablePattern.test(table))
    throw errors.invalid('create', 'table', 'must be a letter or _ then up to 40 letters, digits or _');
  const retentionMs = options.retentionMs ?? 7 * 86_400_000;
  if (!Number.isSafeInteger(retentionMs) || retentionMs < 1_000)
    throw errors.invalid('create', 'retentionMs', 'must be an integer of 1,000 or more');
  if (typeof options.sql?.transaction !== 'function')
    throw errors.invalid('create', 'sql', 'must be a SqlDatabase');
  if (options.outbox !== undefined && options.outbox.sql !== options.sql)
    throw errors.invalid('create', 'outbox', 'must write to the inbox’s database');
  const database = options.sql;
  const logger = (options.runtime ?? defaultRuntime()).logger.child({ component: `inbox:${table}` });
  const duplicates = new Map<string, number>();
  const transaction = <T>(fn: (tx: OutboxTransaction) => Promise<T>): Promise<T> =>
    options.outbox
      ? options.outbox.transaction(fn, options.transaction)
      : database.transaction((tx) => fn(withoutPublish(tx, errors)), options.transaction);

  let purgedAt = Date.now();
  const purge = (): Promise<number> =>
    database.execute(sql`DELETE FROM ${sql.id(table)} WHERE received_ms < ${Date.now() - retentionMs}`);

  return {
    migrations: inboxMigrations(table),
    duplicates,
    purge,
    handler<T>(consumer: string, handle: InboxHandler<T>): MessageHandler<T> {
      if (typeof consumer !== 'string' || !consumerPattern.test(consumer))
        throw errors.invalid('handler', 'consumer', 'must be 1 to 200 letters, digits, or . _ : -');
      if (typeof handle !== 'function') throw errors.invalid('handler', 'handle', 'must be a function');
      return async (message, signal) => {
        const id =
          message.id.length <= maxIdLength
            ? message.id
            : `sha256:${createHash('sha256').update(message.id).digest('hex')}`;
        const handled = await transaction(async (tx) => {
          const recorded = await tx.execute(record(tx.dialect, table, consumer, id));
          if (recorded === 0) return false;
          await handle(message, tx, signal);
          return true;
        });
        if (!handled) duplicates.set(consumer, (duplicates.get(consumer) ?? 0) + 1);
        if (Date.now() - purgedAt > retentionMs / 10) {
          purgedAt = Date.now();
          purge().catch((error: unknown) => logger.warn({ err: error }, 'inbox purge failed'));
        }
      };
    },
  };
}

/** Records the id unless it is there: 1 row when new, 0 when handled before (then waits for a writer of it to end). */
function record(dialect: SqlDialect, table: string, consumer: string, id: string): SqlStatement {
  const now = Date.now();
  return dialect === 'postgres'
    ? sql`INSERT INTO ${sql.id(table)} (consumer, message_id, received_ms) VALUES (${consumer}, ${id}, ${now}) ON CONFLICT DO NOTHING`
    : sql`INSERT INTO ${sql.id(table)} (consumer, message_id, received_ms) SELECT ${consumer}, ${id}, ${now} WHERE NOT EXISTS (SELECT 1 FROM ${sql.id(table)} WITH (UPDLOCK, HOLDLOCK) WHERE consumer = ${consumer} AND message_id = ${id})`;
}

function inboxMigrations(table: string): Migration[] {
  return [
    {
      id: `${table}.001_table`,
      sql: {
        postgres: `CREATE TABLE ${table} (consumer text NOT NULL, message_id text NOT NULL, received_ms bigint NOT NULL, PRIMARY KEY (consumer, message_id));\nCREATE INDEX ${table}_received ON ${table} (received_ms)`,
        mssql: `CREATE TABLE ${table} (consumer nvarchar(200) NOT NULL, message_id nvarchar(200) NOT NULL, received_ms bigint NOT NULL, PRIMARY KEY (consumer, message_id));\nCREATE INDEX ${table}_received ON ${table} (received_ms)`,
      },
    },
  ];
}

/** A plain transaction in the handler's shape: `publish` says what is missing. */
function withoutPublish(tx: SqlTransaction, errors: ComponentErrors): OutboxTransaction {
  return {
    ...tx,
    dialect: tx.dialect,
    publish: () =>
      Promise.reject(
        errors.error(
          'config',
          'publish',
          'this inbox has no outbox: give createInbox an `outbox` to publish from a handler',
        ),
      ),
    transaction: (fn) => tx.transaction((inner) => fn(withoutPublish(inner, errors))),
  };
}
