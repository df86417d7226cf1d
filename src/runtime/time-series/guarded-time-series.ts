import type { HealthResult, OperationOptions } from '../../ports/component.ts';
import {
  timeSeriesPort as timeSeriesPortDefinition,
  type AggregateOptions,
  type AggregateWindow,
  type Point,
  type RangeQuery,
  type RangeRequest,
  type StoredPoint,
  type Tags,
  type TimeSeries,
  type TimeSeriesAdapter,
  type TimeSeriesOperation,
  type WriteOptions,
} from '../../ports/time-series.ts';
import type { Fail } from '../documents/validation.ts';
import { Guard, type GuardedOptions, type GuardedPort } from '../guard/guard.ts';
import { GuardedComponent } from '../guard/guarded-component.ts';
import { rejecting } from '../guard/rejecting.ts';
import type { Runtime } from '../runtime.ts';
import { dbClientOperationDuration } from '../telemetry/semconv.ts';
import { RangePages } from './range-pages.ts';
import {
  checkAggregateOptions,
  checkPoints,
  checkRange,
  checkSeries,
  checkTags,
  checkTtl,
} from './validation.ts';

export type GuardedTimeSeriesOptions = GuardedOptions;

const ignoreResult = (): undefined => undefined;

const timeSeriesPort: GuardedPort<TimeSeriesOperation> = {
  port: timeSeriesPortDefinition.name,
  idPrefix: timeSeriesPortDefinition.idPrefix,
  operations: timeSeriesPortDefinition.operations,
  metrics: dbClientOperationDuration,
};

/**
 * Builds the `TimeSeries` port around a backend once for every adapter: validation of every
 * point and query before any I/O, ranges read page by page (one guarded call per page, so a
 * deadline bounds a page, not the range), aggregation folded from pages when the backend
 * cannot aggregate itself, and `guard()`.
 */
export function guardTimeSeries<Cursor>(
  adapter: TimeSeriesAdapter<Cursor>,
  options: GuardedTimeSeriesOptions,
  runtime: Runtime,
): TimeSeries {
  return new GuardedTimeSeries(Guard.forAdapter(timeSeriesPort, adapter, options, runtime), adapter);
}

class GuardedTimeSeries<Cursor> extends GuardedComponent<TimeSeriesOperation> implements TimeSeries {
  readonly #guard: Guard<TimeSeriesOperation>;
  readonly #adapter: TimeSeriesAdapter<Cursor>;
  readonly #pages: RangePages<Cursor>;

  constructor(guard: Guard<TimeSeriesOperation>, adapter: TimeSeriesAdapter<Cursor>) {
    super(guard);
    this.#guard = guard;
    this.#adapter = adapter;
    this.#pages = new RangePages(guard, adapter);
  }

  readonly write = (points: Point | readonly Point[], opts?: WriteOptions): Promise<void> =>
    rejecting(() => {
      const fail = this.#failFor('write');
      const checked = checkPoints(points, fail);
      const ttlMs = checkTtl(opts?.ttlMs, fail);
      if (checked.length === 0) return Promise.resolve();
      return this.#guard.run('write', opts, (ctx) => this.#adapter.write(checked, ttlMs, ctx), ignoreResult);
    });

  // Checked when called, so a query changed afterwards is not the one read; refused on first next().
  readonly range = (query: RangeQuery): AsyncIterable<StoredPoint> => {
    let request: RangeRequest | undefined;
    let refused: unknown;
    try {
      request = checkRange(query, this.#failFor('range'));
    } catch (error) {
      refused = error;
    }
    return this.#pages.points(request, refused, query);
  };

  readonly latest = (series: string, tags: Tags, opts?: OperationOptions): Promise<StoredPoint | undefined> =>
    rejecting(() => {
      const fail = this.#failFor('latest');
      const checkedSeries = checkSeries(series, fail);
      const checkedTags = checkTags(tags, fail);
      return this.#guard.run('latest', opts, (ctx) => this.#adapter.latest(checkedSeries, checkedTags, ctx));
    });

  readonly aggregate = (
    query: Omit<RangeQuery, 'order' | 'limit'>,
    aggregateOptions: AggregateOptions,
  ): Promise<AggregateWindow[]> =>
    rejecting(() => {
      const fail = this.#failFor('aggregate');
      const request = checkRange(query, fail, true);
      const checked = checkAggregateOptions(aggregateOptions, request, fail);
      const own = this.#adapter.aggregate?.bind(this.#adapter);
      if (own === undefined) return this.#pages.fold(request, checked, query);
      const { order: _order, limit: _limit, ...windowRequest } = request;
      return this.#guard.run('aggregate', query, (ctx) => own(windowRequest, checked, ctx));
    });

  readonly tagSets = (series: string, opts?: OperationOptions): Promise<Tags[]> =>
    rejecting(() => {
      const checkedSeries = checkSeries(series, this.#failFor('tagSets'));
      return this.#guard.run('tagSets', opts, (ctx) => this.#adapter.tagSets(checkedSeries, ctx));
    });

  protected override probe(signal: AbortSignal): Promise<HealthResult> {
    return this.#adapter.probe(signal);
  }

  protected override closeAdapter(): Promise<void> {
    return this.#adapter.close();
  }

  #failFor(operation: TimeSeriesOperation): Fail {
    return (path, message) => this.#guard.invalid(operation, path, message);
  }
}
