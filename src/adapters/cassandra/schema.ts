import type { z } from 'zod';
import type { cassandraReplicationSchema } from './options.ts';

// The CQL of the time series. Only the keyspace, checked against a strict lowercase pattern,
// and numbers from checked options are written into a statement; every value is bound.

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

export type CassandraReplication = z.output<typeof cassandraReplicationSchema>;

// Cassandra's largest TTL: 20 years.
export const maxTtlSeconds = 630_720_000;

/**
 * A TTL in Cassandra's whole seconds. A cell expires at the start of a second (the second it was
 * written in, plus the TTL), so `n` seconds may last only `n - 1`: one more second, after
 * rounding up, so that a point never goes before its TTL; it may outlive it by up to two seconds.
 */
export const ttlSeconds = (ms: number): number => Math.min(maxTtlSeconds, Math.ceil(ms / 1_000) + 1);

/**
 * The TimeWindowCompactionStrategy window for a bucket width: the largest unit that divides it,
 * so a window holds whole buckets; below a minute (TWCS's smallest unit), one minute.
 */
export function compactionWindow(bucketMs: number): { unit: 'DAYS' | 'HOURS' | 'MINUTES'; size: number } {
  if (bucketMs % day === 0) return { unit: 'DAYS', size: bucketMs / day };
  if (bucketMs % hour === 0) return { unit: 'HOURS', size: bucketMs / hour };
  return { unit: 'MINUTES', size: Math.max(1, Math.ceil(bucketMs / minute)) };
}

function replicationMap(replication: CassandraReplication): string {
  const entries =
    replication.class === 'SimpleStrategy'
      ? [['replication_factor', replication.replicationFactor] as const]
      : Object.entries(replication.dataCenters);
  return `{'class': '${replication.class}', ${entries.map(([name, factor]) => `'${name}': ${factor}`).join(', ')}}`;
}

/**
 * The keyspace and its three tables, each created only if missing:
 * - `points`: one partition per series, tag set and time bucket, newest first; each point a
 *   frozen map of its fields (one cell, so writing a point again replaces it whole, with no
 *   collection tombstone); compacted by time window, one window per bucket.
 * - `stream_buckets`: the buckets a stream has, newest first, so a range reads only buckets that
 *   hold points and `latest` starts at the newest. One row per TTL a bucket was written with,
 *   living that TTL plus a slack (`index-rows.ts`): it outlives every point written with it, and
 *   is gone at most the slack after the last of them.
 * - `tag_sets`: the tag sets of a series, one row per TTL in the same way, for `tagSets()`.
 */
export function schemaStatements(
  keyspace: string,
  replication: CassandraReplication,
  bucketMs: number,
  defaultTtlMs: number | undefined,
): string[] {
  const window = compactionWindow(bucketMs);
  return [
    `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = ${replicationMap(replication)}`,
    `CREATE TABLE IF NOT EXISTS ${keyspace}.points (
      series text, tag_key text, bucket timestamp, time timestamp, fields frozen<map<text, double>>,
      PRIMARY KEY ((series, tag_key, bucket), time)
    ) WITH CLUSTERING ORDER BY (time DESC)
      AND compaction = {'class': 'TimeWindowCompactionStrategy',
        'compaction_window_unit': '${window.unit}', 'compaction_window_size': '${window.size}'}
      AND default_time_to_live = ${defaultTtlMs === undefined ? 0 : ttlSeconds(defaultTtlMs)}`,
    `CREATE TABLE IF NOT EXISTS ${keyspace}.stream_buckets (
      series text, tag_key text, bucket timestamp, ttl_seconds int,
      PRIMARY KEY ((series, tag_key), bucket, ttl_seconds)
    ) WITH CLUSTERING ORDER BY (bucket DESC, ttl_seconds ASC)`,
    `CREATE TABLE IF NOT EXISTS ${keyspace}.tag_sets (
      series text, tag_key text, ttl_seconds int, tags frozen<map<text, text>>,
      PRIMARY KEY (series, tag_key, ttl_seconds)
    )`,
  ];
}

/** Every statement the adapter runs, prepared on first use; `?` marks each bound value. */
export function timeSeriesStatements(keyspace: string) {
  const stream = 'series = ? AND tag_key = ?';
  return {
    insertPoint: `INSERT INTO ${keyspace}.points (series, tag_key, bucket, time, fields) VALUES (?, ?, ?, ?, ?) USING TTL ?`,
    insertBucket: `INSERT INTO ${keyspace}.stream_buckets (series, tag_key, bucket, ttl_seconds) VALUES (?, ?, ?, ?) USING TTL ?`,
    insertTagSet: `INSERT INTO ${keyspace}.tag_sets (series, tag_key, ttl_seconds, tags) VALUES (?, ?, ?, ?) USING TTL ?`,
    pointsAsc: `SELECT time, fields FROM ${keyspace}.points WHERE ${stream} AND bucket = ? AND time >= ? AND time < ? ORDER BY time ASC`,
    pointsDesc: `SELECT time, fields FROM ${keyspace}.points WHERE ${stream} AND bucket = ? AND time >= ? AND time < ?`,
    newestPoint: `SELECT time, fields FROM ${keyspace}.points WHERE ${stream} AND bucket = ? LIMIT 1`,
    bucketsAsc: `SELECT bucket FROM ${keyspace}.stream_buckets WHERE ${stream} AND bucket >= ? AND bucket <= ? ORDER BY bucket ASC`,
    bucketsDesc: `SELECT bucket FROM ${keyspace}.stream_buckets WHERE ${stream} AND bucket >= ? AND bucket <= ?`,
    tagSets: `SELECT tag_key FROM ${keyspace}.tag_sets WHERE series = ?`,
  } as const;
}
export type TimeSeriesStatements = ReturnType<typeof timeSeriesStatements>;
