import type { Migration } from '../../ports/sql-database.ts';
import { sql, type SqlDialect, type SqlStatement } from '../../ports/sql.ts';

/** The outbox's tables: its messages, the leases relays hold on partitions, and the relays alive. */
export interface OutboxTables {
  readonly messages: string;
  readonly leases: string;
  readonly relays: string;
}

export function outboxTables(table: string): OutboxTables {
  return { messages: table, leases: `${table}_leases`, relays: `${table}_relays` };
}

/**
 * One migration for the three tables. A row's `partition_no` is its key's hash modulo the
 * partitions; a relay publishes the rows of the partitions it leases in `seq` order.
 */
export function outboxMigrations(tables: OutboxTables): Migration[] {
  const { messages, leases, relays } = tables;
  return [
    {
      id: `${messages}.001_tables`,
      sql: {
        postgres: [
          `CREATE TABLE ${messages} (seq bigserial PRIMARY KEY, partition_no integer NOT NULL, topic text NOT NULL, message_key text, message_id text NOT NULL, headers text NOT NULL, payload bytea NOT NULL, created_ms bigint NOT NULL, failure text)`,
          `CREATE INDEX ${messages}_partition_seq ON ${messages} (partition_no, seq)`,
          `CREATE TABLE ${leases} (partition_no integer PRIMARY KEY, owner text, expires_ms bigint NOT NULL)`,
          `CREATE TABLE ${relays} (relay text PRIMARY KEY, expires_ms bigint NOT NULL)`,
        ].join(';\n'),
        mssql: [
          `CREATE TABLE ${messages} (seq bigint IDENTITY(1,1) PRIMARY KEY, partition_no int NOT NULL, topic nvarchar(400) NOT NULL, message_key nvarchar(max) NULL, message_id nvarchar(400) NOT NULL, headers nvarchar(max) NOT NULL, payload varbinary(max) NOT NULL, created_ms bigint NOT NULL, failure nvarchar(max) NULL)`,
          `CREATE INDEX ${messages}_partition_seq ON ${messages} (partition_no, seq)`,
          `CREATE TABLE ${leases} (partition_no int NOT NULL PRIMARY KEY, owner nvarchar(200) NULL, expires_ms bigint NOT NULL)`,
          `CREATE TABLE ${relays} (relay nvarchar(200) NOT NULL PRIMARY KEY, expires_ms bigint NOT NULL)`,
        ].join(';\n'),
      },
    },
  ];
}

/** A 32-bit FNV-1a hash of a key: the partition of its rows and the lock its writers share. */
export function keyHash(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

// The first key of PostgreSQL's two-key advisory locks for outbox writers ("berO").
const advisoryNamespace = 0x6265724f;

/**
 * Holds a lock on `key` until the transaction ends, so that writers of one key commit in the
 * order they wrote (and their rows' `seq` order is that commit order). The statement's deadline
 * bounds the wait.
 */
export function lockKey(dialect: SqlDialect, table: string, key: string): SqlStatement {
  const hash = keyHash(key);
  return dialect === 'postgres'
    ? sql`SELECT pg_advisory_xact_lock(${advisoryNamespace}, ${hash | 0})`
    : sql`DECLARE @granted int; EXEC @granted = sp_getapplock @Resource = ${`${table}:${hash}`}, @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = -1; SELECT @granted AS granted`;
}

/** The oldest unsent rows of the given partitions, `limit` at most. */
export function nextRows(
  dialect: SqlDialect,
  table: string,
  partitions: readonly number[],
  limit: number,
): SqlStatement {
  const columns = sql`seq, topic, message_key, message_id, headers, payload`;
  const where = sql`partition_no IN (${sql.join(partitions)}) AND failure IS NULL ORDER BY seq`;
  return dialect === 'postgres'
    ? sql`SELECT ${columns} FROM ${sql.id(table)} WHERE ${where} LIMIT ${limit}`
    : sql`SELECT TOP (${limit}) ${columns} FROM ${sql.id(table)} WHERE ${where}`;
}
