import {
  aggregateFunctions,
  type AggregateOptions,
  type Point,
  type RangeQuery,
  type RangeRequest,
  type StoredPoint,
  type Tags,
} from '../../ports/time-series.ts';
import { isPlainObject, type Fail } from '../documents/validation.ts';

// Checks of TimeSeries input, before any I/O: hand-written, as they run on every point written.
// Names are checked against a strict pattern so a backend may use them in a statement; values
// always travel as data.

const namePattern = /^[A-Za-z0-9_.:-]{1,200}$/;
const nameRule = '1 to 200 letters, digits, _ . - :';
const maxTags = 16;
const maxTagValueLength = 256;
const maxFields = 64;
export const maxTime = 253_402_300_799_999;
/** Cassandra's largest TTL (20 years), so a TTL valid on one backend is valid on all. */
export const maxTtlMs = 630_720_000_000;
export const maxWindows = 100_000;
export const defaultPageSize = 1_000;
export const maxPageSize = 10_000;
const aggregateFunctionSet: ReadonlySet<string> = new Set(aggregateFunctions);

const isPositiveInteger = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
// Points, queries and options may be class instances; tags and fields must be plain objects.
const isObject = (value: unknown): value is object =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function checkSeries(series: unknown, fail: Fail, at = 'series'): string {
  if (typeof series !== 'string' || !namePattern.test(series)) throw fail(at, `must be ${nameRule}`);
  return series;
}

// `__proto__` is refused: an adapter that rebuilds the object by assignment would drop it silently.
const checkName = (name: string, at: string, fail: Fail, what: string): void => {
  if (!namePattern.test(name) || name === '__proto__')
    throw fail(at, `${what} must be ${nameRule}, not __proto__`);
};

/** A copy of the tags with keys in code-unit order, so one tag set has one spelling. */
export function checkTags(tags: unknown, fail: Fail, at = 'tags'): Tags {
  if (!isPlainObject(tags)) throw fail(at, 'must be an object of tag names to strings');
  const entries = Object.entries(tags);
  if (entries.length > maxTags) throw fail(at, `may hold at most ${maxTags} tags`);
  for (const [key, value] of entries) {
    checkName(key, at, fail, 'keys');
    if (
      typeof value !== 'string' ||
      value.length === 0 ||
      value.length > maxTagValueLength ||
      !value.isWellFormed()
    )
      throw fail(at, `values must be well-formed strings of 1 to ${maxTagValueLength} characters`);
  }
  // fromEntries defines properties; assignment would not (a key named like an accessor).
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : 1))) as Tags;
}

export function checkTime(time: unknown, fail: Fail, at: string): number {
  const ms = time instanceof Date ? time.getTime() : time;
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0 || ms > maxTime)
    throw fail(at, 'must be whole milliseconds (or a Date) from 1970 to the year 9999');
  return ms;
}

function checkFields(fields: unknown, fail: Fail, at: string): Record<string, number> {
  if (!isPlainObject(fields)) throw fail(at, 'must be an object of field names to numbers');
  const entries = Object.entries(fields);
  if (entries.length === 0 || entries.length > maxFields)
    throw fail(at, `must hold 1 to ${maxFields} fields`);
  for (const [name, value] of entries) {
    checkName(name, at, fail, 'names');
    if (typeof value !== 'number' || !Number.isFinite(value)) throw fail(at, 'values must be finite numbers');
  }
  return Object.fromEntries(entries) as Record<string, number>;
}

/** Copies of the points, checked, with times in milliseconds and tags in canonical order. */
export function checkPoints(points: unknown, fail: Fail): StoredPoint[] {
  if (!Array.isArray(points) && !isObject(points))
    throw fail('points', 'must be a point or an array of points');
  const list: unknown[] = Array.isArray(points) ? points : [points];
  return list.map((point, i) => {
    const at = `points[${i}]`;
    if (!isObject(point)) throw fail(at, 'must be a point');
    const { series, tags, time, fields } = point as Partial<Point>;
    return {
      series: checkSeries(series, fail, `${at}.series`),
      tags: checkTags(tags, fail, `${at}.tags`),
      time: checkTime(time, fail, `${at}.time`),
      fields: checkFields(fields, fail, `${at}.fields`),
    };
  });
}

export function checkTtl(ttlMs: unknown, fail: Fail): number | undefined {
  if (ttlMs === undefined) return undefined;
  if (!isPositiveInteger(ttlMs) || ttlMs > maxTtlMs)
    throw fail('ttlMs', `must be a positive integer number of milliseconds, at most ${maxTtlMs} (20 years)`);
  return ttlMs;
}

/**
 * A range query as the backend receives it: times in milliseconds, defaults filled in. For an
 * aggregate, `order` and `limit` are not the caller's: every point is read in ascending order.
 */
export function checkRange(query: unknown, fail: Fail, forAggregate = false): RangeRequest {
  if (!isObject(query)) throw fail('query', 'must be an object');
  const { series, tags, from, to, pageSize } = query as Partial<RangeQuery>;
  const { order, limit } = forAggregate ? {} : (query as Partial<RangeQuery>);
  const request: RangeRequest = {
    series: checkSeries(series, fail),
    tags: checkTags(tags, fail),
    from: checkTime(from, fail, 'from'),
    to: checkTime(to, fail, 'to'),
    order: order ?? 'asc',
    limit: limit ?? Infinity,
    pageSize: pageSize ?? defaultPageSize,
  };
  if (request.from >= request.to) throw fail('from', 'must be before to');
  if (request.order !== 'asc' && request.order !== 'desc') throw fail('order', "must be 'asc' or 'desc'");
  if (limit !== undefined && !isPositiveInteger(limit)) throw fail('limit', 'must be a positive integer');
  if (!isPositiveInteger(request.pageSize) || request.pageSize > maxPageSize)
    throw fail('pageSize', `must be a positive integer of at most ${maxPageSize}`);
  return request;
}

/** Windows `[from, to)` overlaps: from the one holding `from` to the one holding `to - 1`. */
export const windowCount = (from: number, to: number, step: number): number =>
  Math.floor((to - 1) / step) - Math.floor(from / step) + 1;

export function checkAggregateOptions(options: unknown, request: RangeRequest, fail: Fail): AggregateOptions {
  if (!isObject(options)) throw fail('options', 'must be an object with step and functions');
  const { step, functions } = options as Partial<AggregateOptions>;
  if (!isPositiveInteger(step)) throw fail('step', 'must be a positive integer number of milliseconds');
  const windows = windowCount(request.from, request.to, step);
  if (windows > maxWindows)
    throw fail('step', `gives ${windows} windows over [from, to); at most ${maxWindows} are allowed`);
  if (!Array.isArray(functions) || functions.length === 0)
    throw fail('functions', `must be a non-empty array of ${aggregateFunctions.join(', ')}`);
  for (const fn of functions as unknown[])
    if (typeof fn !== 'string' || !aggregateFunctionSet.has(fn))
      throw fail('functions', `must hold only ${aggregateFunctions.join(', ')}`);
  return { step, functions: [...new Set(functions)] };
}
