import type { OutgoingMessage, PayloadEncoding } from '../../ports/broker.ts';
import type { Migration, SqlDatabase, SqlTransaction, TransactionOptions } from '../../ports/sql-database.ts';
import { sql } from '../../ports/sql.ts';
import type { StandardSchemaV1 } from '../../ports/standard-schema.ts';
import { BrokerMessageEncoder } from '../broker/encoding.ts';
import { brokerHeaders } from '../broker/headers.ts';
import { ComponentErrors } from '../guard/component-errors.ts';
import { defaultRuntime, type Runtime } from '../runtime.ts';
import { spanAttributes } from '../telemetry/semconv.ts';
import { keyHash, lockKey, outboxMigrations, outboxTables, type OutboxTables } from './outbox-statements.ts';

export interface OutboxOptions {
  /** The database whose transactions write the outbox's rows. */
  sql: SqlDatabase;
  /** Name of its messages table (others take it as a prefix); default `berth_outbox`. */
  table?: string;
  /**
   * Key hashes are spread over this many partitions, the units relays lease; the same number for
   * every writer and relay of the table. Default 16, from 1 to 1,024.
   */
  partitions?: number;
  /** Largest message accepted, in bytes, as the broker counts it; default 1 MiB. */
  maxMessageBytes?: number;
  runtime?: Runtime;
}

export interface OutboxPublishOptions<T = unknown> {
  /** Validates every value before it is written. */
  schema?: StandardSchemaV1<unknown, T>;
  encoding?: PayloadEncoding;
}

/** A transaction that also writes messages, published by a relay once (and only if) it commits. */
export interface OutboxTransaction extends SqlTransaction {
  publish<T>(
    topic: string,
    messages: OutgoingMessage<T> | readonly OutgoingMessage<T>[],
    options?: OutboxPublishOptions<T>,
  ): Promise<void>;
  transaction<T>(fn: (tx: OutboxTransaction) => Promise<T>): Promise<T>;
}

/**
 * A transactional outbox: messages written in the transaction of the data they are about, as
 * rows that a relay (`createOutboxRelay`) publishes to a broker after the commit, in order per key.
 */
export interface Outbox {
  readonly sql: SqlDatabase;
  readonly tables: OutboxTables;
  readonly partitions: number;
  /** The outbox's tables: give them to `sql.migrate` (or the SQL options' `migrations`). */
  readonly migrations: readonly Migration[];
  /** `sql.transaction` whose transaction can `publish`. */
  transaction<T>(fn: (tx: OutboxTransaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Writes messages within a transaction of `sql` begun elsewhere. */
  publish<T>(
    tx: SqlTransaction,
    topic: string,
    messages: OutgoingMessage<T> | readonly OutgoingMessage<T>[],
    options?: OutboxPublishOptions<T>,
  ): Promise<void>;
  /** Called after each commit of `transaction` that published: relays in this process wake at once. */
  onCommit(listener: () => void): () => void;
}

const tablePattern = /^[A-Za-z_][A-Za-z0-9_]{0,40}$/;
const maxTopicLength = 249;

export function createOutbox(options: OutboxOptions): Outbox {
  const runtime = options.runtime ?? defaultRuntime();
  const errors = new ComponentErrors('outbox', 'outbox', 'outbox', () => ({ reason: 'internal' }));
  const table = options.table ?? 'berth_outbox';
  if (!tablePattern.test(table))
    throw errors.invalid('create', 'table', 'must be a letter or _ then up to 40 letters, digits or _');
  const partitions = options.partitions ?? 16;
  if (!Number.isSafeInteger(partitions) || partitions < 1 || partitions > 1_024)
    throw errors.invalid('create', 'partitions', 'must be an integer from 1 to 1024');
  if (typeof options.sql?.transaction !== 'function')
    throw errors.invalid('create', 'sql', 'must be a SqlDatabase');
  const database = options.sql;
  const tables = outboxTables(table);
  const encoder = new BrokerMessageEncoder(errors, options.maxMessageBytes ?? 1_048_576);
  const listeners = new Set<() => void>();
  const notified = new WeakSet<SqlTransaction>();

  const publish = async <T>(
    tx: SqlTransaction,
    topic: string,
    messages: OutgoingMessage<T> | readonly OutgoingMessage<T>[],
    opts: OutboxPublishOptions<T> = {},
  ): Promise<void> => {
    if (typeof topic !== 'string' || topic.length === 0 || topic.length > maxTopicLength)
      throw errors.invalid('publish', 'topic', `must be 1 to ${maxTopicLength} characters`);
    const list: readonly OutgoingMessage<T>[] = Array.isArray(messages)
      ? (messages as readonly OutgoingMessage<T>[])
      : [messages as OutgoingMessage<T>];
    const encoding = opts.encoding ?? 'json';
    const schema = opts.schema;
    const values = schema
      ? await Promise.all(
          list.map((message) =>
            encoder.validate('publish', schema, (message as OutgoingMessage<T> | undefined)?.value),
          ),
        )
      : list.map((message) => (message as OutgoingMessage<T> | undefined)?.value);
    const records = list.map((message, i) => encoder.encode('publish', message, values[i], encoding));
    if (records.length === 0) return;
    const createdMs = Date.now();
    const rows = records.map((record) => {
      createdContext(runtime, topic, record.headers);
      const hash =
        record.key === undefined ? keyHash(record.headers[brokerHeaders.id]!) : keyHash(record.key);
      return [
        hash % partitions,
        topic,
        record.key ?? null,
        record.headers[brokerHeaders.id]!,
        JSON.stringify(record.headers),
        record.value,
        createdMs,
      ];
    });
    // Sorted, so that two transactions writing the same keys take their locks in one order.
    const keys = [
      ...new Set(records.flatMap((record) => (record.key === undefined ? [] : [record.key]))),
    ].sort();
    for (const key of keys) await tx.query(lockKey(tx.dialect, table, key));
    // Relays of other processes listen on the table's channel; sent at commit, once per transaction.
    if (tx.dialect === 'postgres' && !notified.has(tx)) {
      notified.add(tx);
      await tx.query(sql`SELECT pg_notify(${table}, '')`);
    }
    await tx.execute(
      sql`INSERT INTO ${sql.id(table)} (partition_no, topic, message_key, message_id, headers, payload, created_ms) VALUES ${sql.values(rows)}`,
    );
  };

  const withPublish = (tx: SqlTransaction, published: () => void): OutboxTransaction => {
    const outboxTx: OutboxTransaction = {
      ...tx,
      dialect: tx.dialect,
      publish: (topic, messages, opts) => {
        published();
        return publish(tx, topic, messages, opts);
      },
      transaction: (fn) => tx.transaction((inner) => fn(withPublish(inner, published))),
    };
    return outboxTx;
  };

  return {
    sql: database,
    tables,
    partitions,
    migrations: outboxMigrations(tables),
    publish,
    async transaction(fn, opts) {
      let published = false;
      const result = await database.transaction(
        (tx) =>
          fn(
            withPublish(tx, () => {
              published = true;
            }),
          ),
        opts,
      );
      if (published) for (const listener of listeners) listener();
      return result;
    },
    onCommit(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * The message's creation context, made where it is written (a `create` span under the caller's),
 * so the trace runs from the writer's request to the consumer; the relay's send keeps it.
 */
function createdContext(runtime: Runtime, topic: string, headers: Record<string, string>): void {
  const tracing = runtime.tracing;
  const tracer = tracing?.tracer();
  if (tracing === undefined || tracer === undefined) return;
  const span = tracer.startSpan(`create ${topic}`, {
    kind: tracing.api.SpanKind.PRODUCER,
    attributes: {
      [spanAttributes.messagingOperationName]: 'create',
      [spanAttributes.messagingOperationType]: 'create',
      [spanAttributes.messagingDestinationName]: topic,
      [spanAttributes.messagingMessageId]: headers[brokerHeaders.id] ?? '',
    },
  });
  tracing.inject(span, headers);
  span.end();
}
