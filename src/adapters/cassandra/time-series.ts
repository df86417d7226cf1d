import type { Client, QueryOptions, types } from 'cassandra-driver';
import type { HealthResult, OperationContext } from '../../ports/component.ts';
import type {
  RangePage,
  RangeRequest,
  StoredPoint,
  Tags,
  TimeSeries,
  TimeSeriesAdapter,
} from '../../ports/time-series.ts';
import { parseOptions } from '../../runtime/options/validate.ts';
import { cassandraTimeSeriesOptionsSchema, type CassandraTimeSeriesOptions } from './options.ts';
import { extendPort } from '../../runtime/extend-port.ts';
import { guardTimeSeries } from '../../runtime/time-series/guarded-time-series.ts';
import { serverOfHostPort } from '../../runtime/telemetry/server-info.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';
import { maxTime } from '../../runtime/time-series/validation.ts';
import { CassandraConnection, consistencyLevel } from './connection.ts';
import { classifyCassandraError } from './errors.ts';
import { indexTtlSeconds, instantNow, WrittenIndexRows } from './index-rows.ts';
import { schemaStatements, timeSeriesStatements, ttlSeconds, type TimeSeriesStatements } from './schema.ts';
import { warnIfUnverified } from '../shared/tls.ts';

/**
 * Where a range resumes: the start of a bucket (one that may hold no points: the index is asked
 * from there on) and the driver's paging state within it.
 */
interface CassandraCursor {
  readonly bucket: number;
  readonly pageState: string | undefined;
}

interface Settings {
  readonly bucketMs: number;
  readonly consistency: number;
  readonly maxBucketsInFlight: number;
  readonly maxWritesInFlight: number;
  readonly defaultTtlMs: number | undefined;
  readonly seriesTtlMs: ReadonlyMap<string, number>;
}

type Statement = readonly [query: string, params: readonly unknown[]];
const isStatement = (write: Statement | readonly Statement[]): write is Statement =>
  typeof write[0] === 'string';

interface BucketRead {
  readonly bucket: number;
  /** From the bucket's first point, not from a paging state within it. */
  readonly whole: boolean;
  readonly result: Promise<types.ResultSet>;
}

// A tag set as JSON of its [key, value] pairs in key order: one spelling per tag set, bound as a
// value like any other, and read back exactly (NUL, quotes and brackets included).
const tagKeyOf = (tags: Tags): string =>
  JSON.stringify(Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : 1)));
const tagsOf = (tagKey: string): Tags => Object.fromEntries(JSON.parse(tagKey) as [string, string][]);

// Index rows remembered as written (an LRU): a permanent row is written once per process, a TTL'd
// one once per half slack, unless more rows than this are in use.
const maxRememberedRows = 100_000;
// Bucket rows asked per round trip of a range; `latest` usually needs only the first.
const bucketsPerPage = 64;
// Rows of one partition per unlogged batch: one mutation, a request frame well under 16 MB even
// at the port's largest points (16 tags of 256 characters, 64 fields).
const maxPointsPerBatch = 100;
const ignore = (): undefined => undefined;
// Typed as a string, the paging state is null after the last page.
const pageStateOf = (result: types.ResultSet): string | undefined => {
  const state: string | null = result.pageState;
  return state ?? undefined;
};

class CassandraTimeSeriesAdapter implements TimeSeriesAdapter<CassandraCursor> {
  readonly system = 'cassandra';
  readonly #connection: CassandraConnection;
  readonly #client: Client;
  readonly #cql: TimeSeriesStatements;
  readonly #settings: Settings;
  readonly #options: QueryOptions;
  readonly #newestBucket: number;
  readonly #batchOptions: QueryOptions;
  readonly #indexRows = new WrittenIndexRows(maxRememberedRows);

  constructor(connection: CassandraConnection, cql: TimeSeriesStatements, settings: Settings) {
    this.#connection = connection;
    this.#client = connection.client;
    this.#cql = cql;
    this.#settings = settings;
    // Every statement is prepared, and idempotent: the driver may retry it and speculate.
    this.#options = { prepare: true, isIdempotent: true, consistency: settings.consistency };
    this.#batchOptions = { ...this.#options, logged: false };
    this.#newestBucket = this.#bucketOf(maxTime);
  }

  #bucketOf(time: number): number {
    return time - (time % this.#settings.bucketMs);
  }

  #ttlSecondsFor(series: string, ttlMs: number | undefined): number {
    const ms = ttlMs ?? this.#settings.seriesTtlMs.get(series) ?? this.#settings.defaultTtlMs;
    return ms === undefined ? 0 : ttlSeconds(ms);
  }

  async write(
    points: readonly StoredPoint[],
    ttlMs: number | undefined,
    ctx: OperationContext,
  ): Promise<void> {
    const { insertPoint, insertBucket, insertTagSet } = this.#cql;
    // Before any statement is sent: a row's life is counted from no later than its statement.
    const sentAt = instantNow();
    const index: Statement[] = [];
    const due: (readonly [id: string, ttl: number])[] = [];
    const tagSetRows = new Set<string>();
    // Points by partition (stream and bucket) and TTL: each partition's go in unlogged batches.
    const partitions = new Map<string, Statement[]>();
    for (const point of points) {
      const { series, tags, time } = point;
      const ttl = this.#ttlSecondsFor(series, ttlMs);
      const tagKey = tagKeyOf(tags);
      const bucket = this.#bucketOf(time);
      const row: Statement = [insertPoint, [series, tagKey, bucket, time, point.fields, ttl]];
      // A series name and JSON hold no NUL, so the parts of an id cannot run together.
      const id = `${series}\0${tagKey}\0${bucket}\0${ttl}`;
      const rows = partitions.get(id);
      if (rows !== undefined) {
        rows.push(row);
        continue;
      }
      partitions.set(id, [row]);
      if (!this.#indexRows.isDue(id, sentAt)) continue;
      // The bucket row, and its stream's tag-set row with it.
      due.push([id, ttl]);
      index.push([insertBucket, [series, tagKey, bucket, ttl, indexTtlSeconds(ttl)]]);
      const tagSetRow = `${series}\0${tagKey}\0${ttl}`;
      if (tagSetRows.has(tagSetRow)) continue;
      tagSetRows.add(tagSetRow);
      index.push([insertTagSet, [series, tagKey, ttl, tags, indexTtlSeconds(ttl)]]);
    }
    await this.#connection.ready();
    // The index first: a point is never stored where a range or `latest` cannot find it.
    if (index.length > 0) {
      await this.#executeAll(index, ctx);
      for (const [id, ttl] of due) this.#indexRows.written(id, ttl, sentAt);
    }
    const writes: (Statement | readonly Statement[])[] = [];
    for (const rows of partitions.values()) {
      if (rows.length === 1) writes.push(rows[0]!);
      else
        for (let i = 0; i < rows.length; i += maxPointsPerBatch)
          writes.push(rows.slice(i, i + maxPointsPerBatch));
    }
    await this.#executeAll(writes, ctx);
  }

  // At most maxWritesInFlight statements or batches at once; after a failure or the deadline, none start.
  async #executeAll(
    writes: readonly (Statement | readonly Statement[])[],
    ctx: OperationContext,
  ): Promise<void> {
    let next = 0;
    let failed = false;
    const limit = this.#settings.maxWritesInFlight;
    const lane = async (): Promise<void> => {
      while (!failed && next < writes.length) {
        // Read only past the first round: a small write allocates no signal.
        if (next >= limit && ctx.signal.aborted) throw ctx.signal.reason;
        const write = writes[next++]!;
        try {
          await this.#send(write);
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    };
    if (writes.length === 1) return lane();
    await Promise.all(Array.from({ length: Math.min(limit, writes.length) }, lane));
  }

  // A batch holds the rows of one partition: one mutation, applied whole on each replica, with no
  // batch log (nothing to make atomic across partitions) and no size warning (single partition).
  #send(write: Statement | readonly Statement[]): Promise<unknown> {
    if (isStatement(write)) return this.#client.execute(write[0], write[1] as unknown[], this.#options);
    const queries = write.map(([query, params]) => ({ query, params: params as unknown[] }));
    return this.#client.batch(queries, this.#batchOptions);
  }

  /**
   * One page: the stream's buckets in time order from the index, each read with the driver's
   * paging. Buckets are read one at a time until a whole bucket held less than the page needs
   * (sparse data); then up to `maxBucketsInFlight` at once, never more than the page has room
   * for. A bucket read ahead that holds more than is left of the page ends the page: the next
   * one reads it from its start.
   */
  async range(
    request: RangeRequest,
    cursor: CassandraCursor | undefined,
    ctx: OperationContext,
  ): Promise<RangePage<CassandraCursor>> {
    const asc = request.order === 'asc';
    const first = this.#bucketOf(request.from);
    const last = this.#bucketOf(request.to - 1);
    const start = cursor?.bucket ?? (asc ? first : last);
    if (asc ? start > last : start < first) return { points: [], cursor: undefined };
    await this.#connection.ready();
    const tagKey = tagKeyOf(request.tags);
    const wanted = Math.min(request.pageSize, request.limit);
    // Resuming within a bucket (listed by an earlier page): it is read at once, and the index is
    // asked only from the next bucket on, when the page needs more. A dense stream's pages then
    // cost one round trip each, as the driver's own paging does.
    const resumeState = cursor?.pageState;
    const listFrom = resumeState === undefined ? start : start + (asc ? 1 : -1) * this.#settings.bucketMs;
    const buckets = this.#buckets(request.series, tagKey, asc, asc ? listFrom : first, asc ? last : listFrom);
    const points: StoredPoint[] = [];
    const reads: BucketRead[] = [];
    let inFlight = 1;
    let listed = asc ? listFrom > last : listFrom < first;
    if (resumeState !== undefined) {
      const result = this.#readBucket(request, tagKey, start, wanted, resumeState);
      reads.push({ bucket: start, whole: false, result });
    }
    const readAhead = async (): Promise<void> => {
      // A listed bucket holds a point unless they all expired: no more than the page has room for.
      while (reads.length < Math.min(inFlight, wanted - points.length) && !listed) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        const next = await buckets.next();
        if (next.done === true) listed = true;
        else {
          const pageState = next.value === cursor?.bucket ? cursor.pageState : undefined;
          const fetch = wanted - points.length;
          reads.push({
            bucket: next.value,
            whole: pageState === undefined,
            result: this.#readBucket(request, tagKey, next.value, fetch, pageState),
          });
        }
      }
    };
    await readAhead();
    for (let read = reads.shift(); read !== undefined; read = reads.shift()) {
      const result = await read.result;
      const room = wanted - points.length;
      if (result.rows.length > room) return { points, cursor: { bucket: read.bucket, pageState: undefined } };
      for (const row of result.rows) points.push(this.#point(request.series, request.tags, row));
      const pageState = pageStateOf(result);
      if (pageState !== undefined) {
        if (points.length >= wanted) return { points, cursor: { bucket: read.bucket, pageState } };
        // A short page with more behind it: the rest of this bucket comes before the next one.
        const rest = this.#readBucket(request, tagKey, read.bucket, wanted - points.length, pageState);
        reads.unshift({ bucket: read.bucket, whole: false, result: rest });
        continue;
      }
      if (points.length >= wanted) {
        const step = asc ? this.#settings.bucketMs : -this.#settings.bucketMs;
        const resume = reads[0]?.bucket ?? (listed ? undefined : read.bucket + step);
        return {
          points,
          cursor: resume === undefined ? undefined : { bucket: resume, pageState: undefined },
        };
      }
      // The end of a dense bucket says nothing of the next; a whole bucket short of a page does.
      if (read.whole) inFlight = this.#settings.maxBucketsInFlight;
      await readAhead();
    }
    return { points, cursor: undefined };
  }

  #readBucket(
    request: RangeRequest,
    tagKey: string,
    bucket: number,
    fetchSize: number,
    pageState: string | undefined,
  ): Promise<types.ResultSet> {
    const query = request.order === 'asc' ? this.#cql.pointsAsc : this.#cql.pointsDesc;
    const params = [request.series, tagKey, bucket, request.from, request.to];
    const options = { ...this.#options, fetchSize, ...(pageState === undefined ? {} : { pageState }) };
    const result = this.#client.execute(query, params, options);
    // A read ahead may be left behind when the page fills: its failure is nobody's.
    result.catch(ignore);
    return result;
  }

  /** The distinct buckets of a stream within [low, high], paged; oldest first when `asc`. */
  async *#buckets(
    series: string,
    tagKey: string,
    asc: boolean,
    low: number,
    high: number,
    fetchSize = bucketsPerPage,
  ): AsyncGenerator<number, void, undefined> {
    const query = asc ? this.#cql.bucketsAsc : this.#cql.bucketsDesc;
    let pageState: string | undefined;
    let previous: number | undefined;
    do {
      const options = { ...this.#options, fetchSize, ...(pageState === undefined ? {} : { pageState }) };
      const result = await this.#client.execute(query, [series, tagKey, low, high], options);
      // One row per TTL a bucket was written with, side by side.
      for (const row of result.rows) {
        const bucket = (row.get('bucket') as Date).getTime();
        if (bucket !== previous) yield (previous = bucket);
      }
      pageState = pageStateOf(result);
    } while (pageState !== undefined);
  }

  #point(series: string, tags: Tags, row: types.Row): StoredPoint {
    return {
      series,
      tags: { ...tags },
      time: (row.get('time') as Date).getTime(),
      fields: row.get('fields') as Record<string, number>,
    };
  }

  // The newest bucket first, its newest point (LIMIT 1); an older bucket only if that one is empty.
  async latest(series: string, tags: Tags): Promise<StoredPoint | undefined> {
    await this.#connection.ready();
    const tagKey = tagKeyOf(tags);
    for await (const bucket of this.#buckets(series, tagKey, false, 0, this.#newestBucket, 4)) {
      const result = await this.#client.execute(
        this.#cql.newestPoint,
        [series, tagKey, bucket],
        this.#options,
      );
      const row = result.first() as types.Row | null;
      if (row !== null) return this.#point(series, tags, row);
    }
    return undefined;
  }

  async tagSets(series: string): Promise<Tags[]> {
    await this.#connection.ready();
    const keys = new Set<string>();
    let pageState: string | undefined;
    do {
      const options = {
        ...this.#options,
        fetchSize: 1_000,
        ...(pageState === undefined ? {} : { pageState }),
      };
      const result = await this.#client.execute(this.#cql.tagSets, [series], options);
      for (const row of result.rows) keys.add(row.get('tag_key') as string);
      pageState = pageStateOf(result);
    } while (pageState !== undefined);
    return [...keys].map(tagsOf);
  }

  probe(): Promise<HealthResult> {
    return this.#connection.probe();
  }

  classifyError = classifyCassandraError;

  close(): Promise<void> {
    return this.#connection.close();
  }
}

export interface CassandraTimeSeries extends TimeSeries {
  /** The cassandra-driver client, for what the port does not cover. */
  client(): Client;
}

/**
 * A `TimeSeries` on Apache Cassandra or ScyllaDB. Aggregates are folded by berth from range
 * pages: the points table keeps fields in one map per point, which CQL cannot aggregate per
 * field, and a fold costs no more reads than the server would make.
 */
export function createCassandraTimeSeries(
  options: CassandraTimeSeriesOptions,
  runtime: Runtime = defaultRuntime(),
): CassandraTimeSeries {
  const parsed = parseOptions(cassandraTimeSeriesOptionsSchema, options, 'cassandra time series options');
  const logger = runtime.logger.child({ component: parsed.id ?? 'time-series:cassandra' });
  warnIfUnverified(parsed.tls, logger);
  const { keyspace, createSchema, bucketMs, defaultTtlMs } = parsed;
  const schema = createSchema && schemaStatements(keyspace, createSchema.replication, bucketMs, defaultTtlMs);
  const connection = new CassandraConnection(parsed, schema ?? [], logger);
  const adapter = new CassandraTimeSeriesAdapter(connection, timeSeriesStatements(parsed.keyspace), {
    bucketMs: parsed.bucketMs,
    consistency: consistencyLevel(parsed.consistency),
    maxBucketsInFlight: parsed.maxBucketsInFlight,
    maxWritesInFlight: parsed.maxWritesInFlight,
    defaultTtlMs: parsed.defaultTtlMs,
    // A Map, so a series named like an Object.prototype member finds nothing it did not set.
    seriesTtlMs: new Map(Object.entries(parsed.seriesTtlMs ?? {})),
  });
  const server = serverOfHostPort(parsed.contactPoints[0], parsed.keyspace);
  return extendPort(guardTimeSeries(adapter, { ...parsed, server }, runtime), {
    client: () => connection.client,
  });
}
