import type { HealthResult } from '../../ports/component.ts';
import type { ErrorClassification } from '../../ports/errors.ts';
import type {
  RangePage,
  RangeRequest,
  StoredPoint,
  Tags,
  TimeSeries,
  TimeSeriesAdapter,
} from '../../ports/time-series.ts';
import { parseOptions } from '../../runtime/options/validate.ts';
import { memoryTimeSeriesOptionsSchema, type MemoryTimeSeriesOptions } from './options.ts';
import { guardTimeSeries } from '../../runtime/time-series/guarded-time-series.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';

interface Entry {
  readonly fields: Readonly<Record<string, number>>;
  readonly expiresAt: number;
}

/** One series with one tag set: times ascending and unique, entries beside them. */
interface Stream {
  readonly series: string;
  readonly tags: Tags;
  readonly times: number[];
  readonly entries: Entry[];
}

interface Retention {
  defaultTtlMs: number | undefined;
  seriesTtlMs: ReadonlyMap<string, number>;
  maxPoints: number;
}

/** The first index whose time is at least `time`. */
function lowerBound(times: readonly number[], time: number): number {
  let low = 0;
  let high = times.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (times[middle]! < time) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The value that would sit at index `k` if `values` were sorted (quickselect; reorders `values`). */
function kthSmallest(values: Float64Array, k: number): number {
  let low = 0;
  let high = values.length - 1;
  while (low < high) {
    const pivot = values[(low + high) >>> 1]!;
    let i = low;
    let j = high;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const swap = values[i]!;
        values[i++] = values[j]!;
        values[j--] = swap;
      }
    }
    if (k <= j) high = j;
    else if (k >= i) low = i;
    else return pivot;
  }
  return values[k]!;
}

const read = (stream: Stream, i: number): StoredPoint => ({
  series: stream.series,
  tags: { ...stream.tags },
  time: stream.times[i]!,
  fields: { ...stream.entries[i]!.fields },
});

// Canonical tags (sorted by the port) as JSON: NUL, quotes and separators stay data.
const streamKey = (tags: Tags): string => JSON.stringify(Object.entries(tags));

/**
 * Points in memory, one sorted array per stream (a binary search finds a range's start; an
 * append is the usual write), bounded by `maxPoints`. Expired points are skipped by every read
 * and dropped when the bound is reached. Aggregation is left to berth's fold over `range`.
 */
class MemoryTimeSeriesAdapter implements TimeSeriesAdapter<number> {
  readonly system = 'memory';
  readonly #series = new Map<string, Map<string, Stream>>();
  readonly #retention: Retention;
  #points = 0;

  constructor(retention: Retention) {
    this.#retention = retention;
  }

  #find(series: string, tags: Tags): Stream | undefined {
    return this.#series.get(series)?.get(streamKey(tags));
  }

  #streamFor(point: StoredPoint): Stream {
    let streams = this.#series.get(point.series);
    if (streams === undefined) this.#series.set(point.series, (streams = new Map<string, Stream>()));
    const key = streamKey(point.tags);
    let stream = streams.get(key);
    if (stream === undefined) {
      stream = { series: point.series, tags: point.tags, times: [], entries: [] };
      streams.set(key, stream);
    }
    return stream;
  }

  write(points: readonly StoredPoint[], ttlMs: number | undefined): Promise<void> {
    const now = Date.now();
    for (const point of points) {
      const ttl = ttlMs ?? this.#retention.seriesTtlMs.get(point.series) ?? this.#retention.defaultTtlMs;
      // The port hands over checked copies: they are stored as they are and copied on every read.
      const entry: Entry = { fields: point.fields, expiresAt: ttl === undefined ? Infinity : now + ttl };
      const { times, entries } = this.#streamFor(point);
      const last = times.length - 1;
      if (last < 0 || times[last]! < point.time) {
        times.push(point.time);
        entries.push(entry);
        this.#points++;
        continue;
      }
      const at = lowerBound(times, point.time);
      if (times[at] === point.time) {
        entries[at] = entry;
        continue;
      }
      times.splice(at, 0, point.time);
      entries.splice(at, 0, entry);
      this.#points++;
    }
    if (this.#points > this.#retention.maxPoints) this.#shrink(now);
    return Promise.resolve();
  }

  range(request: RangeRequest, cursor: number | undefined): Promise<RangePage<number>> {
    const stream = this.#find(request.series, request.tags);
    if (stream === undefined) return Promise.resolve({ points: [], cursor: undefined });
    const { times, entries } = stream;
    const now = Date.now();
    const wanted = Math.min(request.pageSize, request.limit);
    const points: StoredPoint[] = [];
    // The cursor is the next time to read: inclusive going up, exclusive going down.
    if (request.order === 'asc') {
      let i = lowerBound(times, cursor ?? request.from);
      for (; i < times.length && times[i]! < request.to && points.length < wanted; i++)
        if (entries[i]!.expiresAt > now) points.push(read(stream, i));
      const more = i < times.length && times[i]! < request.to;
      return Promise.resolve({ points, cursor: more ? times[i] : undefined });
    }
    let i = lowerBound(times, cursor ?? request.to) - 1;
    for (; i >= 0 && times[i]! >= request.from && points.length < wanted; i--)
      if (entries[i]!.expiresAt > now) points.push(read(stream, i));
    const more = i >= 0 && times[i]! >= request.from;
    return Promise.resolve({ points, cursor: more ? times[i]! + 1 : undefined });
  }

  latest(series: string, tags: Tags): Promise<StoredPoint | undefined> {
    const stream = this.#find(series, tags);
    const i = stream === undefined ? -1 : this.#newestLive(stream, Date.now());
    return Promise.resolve(i < 0 ? undefined : read(stream!, i));
  }

  tagSets(series: string): Promise<Tags[]> {
    const now = Date.now();
    const live = [...(this.#series.get(series)?.values() ?? [])].filter((s) => this.#newestLive(s, now) >= 0);
    return Promise.resolve(live.map((stream) => ({ ...stream.tags })));
  }

  #newestLive(stream: Stream, now: number): number {
    let i = stream.times.length - 1;
    while (i >= 0 && stream.entries[i]!.expiresAt <= now) i--;
    return i;
  }

  // Drops expired points, then the oldest by time, down to 99% of maxPoints, so the cost of a
  // pass (linear in the points held) is shared by the writes of 1% of them.
  #shrink(now: number): void {
    const { maxPoints } = this.#retention;
    const target = maxPoints - Math.max(1, Math.floor(maxPoints / 100));
    const streams = [...this.#series.values()].flatMap((byTags) => [...byTags.values()]);
    this.#points = 0;
    for (const { times, entries } of streams) {
      let kept = 0;
      for (let i = 0; i < times.length; i++) {
        if (entries[i]!.expiresAt <= now) continue;
        times[kept] = times[i]!;
        entries[kept++] = entries[i]!;
      }
      times.length = kept;
      entries.length = kept;
      this.#points += kept;
    }
    let excess = this.#points - target;
    if (excess > 0) {
      const all = new Float64Array(this.#points);
      let filled = 0;
      for (const { times } of streams) for (const time of times) all[filled++] = time;
      const cutoff = kthSmallest(all, excess - 1);
      // Every point older than the cutoff goes (fewer than `excess`), then points at it until enough are gone.
      const drop = (stream: Stream, count: number): void => {
        stream.times.splice(0, count);
        stream.entries.splice(0, count);
        excess -= count;
        this.#points -= count;
      };
      for (const stream of streams) drop(stream, lowerBound(stream.times, cutoff));
      for (const stream of streams) if (excess > 0 && stream.times[0] === cutoff) drop(stream, 1);
    }
    for (const [series, byTags] of this.#series) {
      for (const [key, stream] of byTags) if (stream.times.length === 0) byTags.delete(key);
      if (byTags.size === 0) this.#series.delete(series);
    }
  }

  probe(): Promise<HealthResult> {
    return Promise.resolve({
      status: 'up',
      details: { points: this.#points, maxPoints: this.#retention.maxPoints, series: this.#series.size },
    });
  }

  classifyError(): ErrorClassification {
    return { reason: 'internal' };
  }

  close(): Promise<void> {
    this.#series.clear();
    this.#points = 0;
    return Promise.resolve();
  }
}

/** An in-process `TimeSeries` with TTLs, bounded by `maxPoints`; its points die with the process. */
export function createMemoryTimeSeries(
  options: MemoryTimeSeriesOptions = {},
  runtime: Runtime = defaultRuntime(),
): TimeSeries {
  const parsed = parseOptions(memoryTimeSeriesOptionsSchema, options, 'memory time series options');
  const retention: Retention = {
    defaultTtlMs: parsed.defaultTtlMs,
    // A Map, so a series named like an Object.prototype member finds nothing it did not set.
    seriesTtlMs: new Map(Object.entries(parsed.seriesTtlMs ?? {})),
    maxPoints: parsed.maxPoints,
  };
  return guardTimeSeries(new MemoryTimeSeriesAdapter(retention), parsed, runtime);
}
