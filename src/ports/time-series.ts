import type {
  Component,
  HealthResult,
  OperationContext,
  OperationOptions,
  OperationSpecs,
  PortDefinition,
} from './component.ts';
import type { ErrorClassification } from './errors.ts';

/** Tag names to values, both strings: together with the series they name one stream of points. */
export type Tags = Readonly<Record<string, string>>;

export interface Point {
  /** Series name: letters, digits, `_`, `.`, `-`, `:`; 1 to 200 characters. */
  series: string;
  /**
   * At most 16 tags; keys as series names (but not `__proto__`), values any well-formed Unicode
   * string of 1 to 256 characters.
   */
  tags: Tags;
  /** Whole milliseconds since the epoch (a `Date` is accepted); from 1970 to the year 9999. */
  time: number | Date;
  /** One or more finite numbers by field name (a name as a tag key, at most 64 fields). */
  fields: Readonly<Record<string, number>>;
}

/** A point as read back: `time` in milliseconds since the epoch. */
export interface StoredPoint {
  series: string;
  tags: Tags;
  time: number;
  fields: Record<string, number>;
}

export interface WriteOptions extends OperationOptions {
  /**
   * Time to live of these points in milliseconds, counted from the write, overriding the series'
   * and the store's default; at most 20 years (Cassandra's limit). A backend that counts seconds
   * rounds up.
   */
  ttlMs?: number;
}

export interface RangeQuery extends OperationOptions {
  series: string;
  /** The exact tag set: a point with more or fewer tags is another stream. */
  tags: Tags;
  /** Inclusive. */
  from: number | Date;
  /** Exclusive; greater than `from`. */
  to: number | Date;
  /** Default `asc`. */
  order?: 'asc' | 'desc';
  /** Points returned at most; default no limit (the iterator pages, so memory stays flat). */
  limit?: number;
  /** Points fetched per round trip (each page has its own deadline); default 1,000, at most 10,000. */
  pageSize?: number;
}

export const aggregateFunctions = ['avg', 'min', 'max', 'sum', 'count', 'first', 'last'] as const;
export type AggregateFunction = (typeof aggregateFunctions)[number];

export interface AggregateOptions {
  /** Window width in whole milliseconds; windows start at multiples of `step` since the epoch. */
  step: number;
  functions: readonly AggregateFunction[];
}

/**
 * One step-aligned window that holds at least one point; `values[field][fn]`, for the fields that
 * have a value in the window. `count` counts a field's values.
 */
export interface AggregateWindow {
  /** Start of the window, in milliseconds since the epoch. */
  start: number;
  values: Record<string, Partial<Record<AggregateFunction, number>>>;
}

/**
 * Points of named series with tags, over time: device metrics, events counted per minute. A
 * point written again with the same series, tags and time replaces the first (writes are
 * idempotent). Expired points are gone on every adapter.
 */
export interface TimeSeries extends Component {
  write(points: Point | readonly Point[], options?: WriteOptions): Promise<void>;
  /** Points of one stream from `from` to `to`, fetched page by page. */
  range(query: RangeQuery): AsyncIterable<StoredPoint>;
  /** The newest point of one stream, or undefined. */
  latest(series: string, tags: Tags, options?: OperationOptions): Promise<StoredPoint | undefined>;
  /** Windows in time order; at most 100,000 of them in `[from, to)`. */
  aggregate(
    query: Omit<RangeQuery, 'order' | 'limit'>,
    options: AggregateOptions,
  ): Promise<AggregateWindow[]>;
  /** Every tag set written to a series (and not all expired), in no particular order. */
  tagSets(series: string, options?: OperationOptions): Promise<Tags[]>;
}

export type TimeSeriesOperation = 'write' | 'range' | 'latest' | 'aggregate' | 'tagSets';

// Writing a point again replaces it, so every operation may be repeated after a failure.
export const timeSeriesOperations: OperationSpecs<TimeSeriesOperation> = {
  write: { idempotent: true },
  range: { idempotent: true },
  latest: { idempotent: true },
  aggregate: { idempotent: true },
  tagSets: { idempotent: true },
};

export const timeSeriesPort: PortDefinition<TimeSeriesOperation> = {
  key: 'timeSeries',
  name: 'time-series',
  idPrefix: 'time-series',
  envPrefix: 'TIME_SERIES',
  critical: true,
  inMemoryDriver: 'memory',
  operations: timeSeriesOperations,
};

/** A checked range: times in milliseconds, tags in a canonical order. */
export interface RangeRequest {
  series: string;
  tags: Tags;
  from: number;
  to: number;
  order: 'asc' | 'desc';
  /** Points still wanted by the caller; Infinity when no limit. */
  limit: number;
  pageSize: number;
}

export interface RangePage<Cursor> {
  points: StoredPoint[];
  /** Undefined after the last page. */
  cursor: Cursor | undefined;
}

/**
 * What a time-series backend implements; berth builds the `TimeSeries` port around it once
 * (validation, paging, aggregation windows, guard). Inputs arrive checked: times in
 * milliseconds, finite values, names that match the port's patterns.
 */
export interface TimeSeriesAdapter<Cursor = unknown> {
  /** As OpenTelemetry's `db.system.name`, e.g. `cassandra`. */
  readonly system: string;
  /** `ttlMs` undefined: the series' or store's default applies. */
  write(points: readonly StoredPoint[], ttlMs: number | undefined, ctx: OperationContext): Promise<void>;
  /**
   * One page of a range: at most `min(pageSize, limit)` points, in `order`; `cursor` undefined for
   * the first. Reading a page again from the same cursor must be safe (a failed page is retried).
   */
  range(request: RangeRequest, cursor: Cursor | undefined, ctx: OperationContext): Promise<RangePage<Cursor>>;
  latest(series: string, tags: Tags, ctx: OperationContext): Promise<StoredPoint | undefined>;
  /**
   * Windows of `[from, to)`: a backend that can aggregate on the server does; one that cannot
   * leaves it undefined and berth folds the range itself.
   */
  aggregate?(
    request: Omit<RangeRequest, 'order' | 'limit'>,
    options: AggregateOptions,
    ctx: OperationContext,
  ): Promise<AggregateWindow[]>;
  tagSets(series: string, ctx: OperationContext): Promise<Tags[]>;
  probe(signal: AbortSignal): Promise<HealthResult>;
  classifyError(error: unknown): ErrorClassification;
  close(): Promise<void>;
}
