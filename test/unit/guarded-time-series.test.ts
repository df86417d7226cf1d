// guardTimeSeries over a scripted backend: one guarded call per page, the limit passed down and
// honoured, a page retried from its own cursor, the backend's own aggregate preferred to folding.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  InfraError,
  type AggregateOptions,
  type AggregateWindow,
  type RangePage,
  type RangeRequest,
  type StoredPoint,
  type TimeSeriesAdapter,
} from '../../src/ports/index.ts';
import { guardTimeSeries } from '../../src/runtime/index.ts';
import { silentRuntime } from '../support/runtime.ts';

const points: StoredPoint[] = Array.from({ length: 25 }, (_, i) => ({
  series: 'cpu',
  tags: { host: 'a' },
  time: i * 1_000,
  fields: { v: i },
}));

/** Serves `points` ascending, `pageSize` at a time (the cursor is an index); records every call. */
class ScriptedAdapter implements TimeSeriesAdapter<number> {
  readonly system = 'scripted';
  readonly requests: { request: RangeRequest; cursor: number | undefined }[] = [];
  failNextPage = false;
  aggregate?: (
    request: Omit<RangeRequest, 'order' | 'limit'>,
    options: AggregateOptions,
  ) => Promise<AggregateWindow[]>;

  write(): Promise<void> {
    return Promise.resolve();
  }
  range(request: RangeRequest, cursor: number | undefined): Promise<RangePage<number>> {
    this.requests.push({ request, cursor });
    if (this.failNextPage && cursor !== undefined) {
      this.failNextPage = false;
      return Promise.reject(new InfraError('unavailable', 'connection reset'));
    }
    const start = cursor ?? 0;
    const end = Math.min(start + Math.min(request.pageSize, request.limit), points.length);
    return Promise.resolve({
      points: points.slice(start, end),
      cursor: end < points.length ? end : undefined,
    });
  }
  latest(): Promise<StoredPoint | undefined> {
    return Promise.resolve(points.at(-1));
  }
  tagSets(): Promise<Record<string, string>[]> {
    return Promise.resolve([{ host: 'a' }]);
  }
  probe() {
    return Promise.resolve({ status: 'up' as const });
  }
  classifyError() {
    return { reason: 'internal' as const };
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const query = { series: 'cpu', tags: { host: 'a' }, from: 0, to: 100_000 };

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

describe('guardTimeSeries', () => {
  it('asks for one page per guarded call, passing what is still wanted, and stops at the limit', async () => {
    const adapter = new ScriptedAdapter();
    const runtime = silentRuntime();
    const store = guardTimeSeries(adapter, {}, runtime);
    assert.equal(store.id, 'time-series:scripted');
    const read = await collect(store.range({ ...query, pageSize: 10, limit: 23 }));
    assert.deepEqual(read, points.slice(0, 23));
    assert.deepEqual(
      adapter.requests.map(({ request, cursor }) => [cursor, request.limit, request.pageSize]),
      [
        [undefined, 23, 10],
        [10, 13, 10],
        [20, 3, 10],
      ],
    );
    assert.match(
      await runtime.registry.metrics(),
      /db_client_operation_duration_seconds_count\{db_system_name="scripted",component="time-series:scripted",db_operation_name="range"\} 3/,
    );
  });

  it('checks the query when range is called, and hands the backend canonical tags and milliseconds', async () => {
    const adapter = new ScriptedAdapter();
    const store = guardTimeSeries(adapter, {}, silentRuntime());
    const tags: Record<string, string> = { z: '1', a: '2' };
    const iterable = store.range({ series: 'cpu', tags, from: new Date(5), to: new Date(10_000) });
    tags.z = 'changed later';
    await collect(iterable);
    const first = adapter.requests[0]!.request;
    assert.deepEqual(Object.keys(first.tags), ['a', 'z']);
    assert.equal(first.tags.z, '1');
    assert.deepEqual(
      [first.from, first.to, first.order, first.limit, first.pageSize],
      [5, 10_000, 'asc', Infinity, 1_000],
    );
  });

  it('retries a failed page from its own cursor, so each point comes once', async () => {
    const adapter = new ScriptedAdapter();
    adapter.failNextPage = true;
    const store = guardTimeSeries(
      adapter,
      { policies: { retry: { initialDelayMs: 1, maxDelayMs: 1 } } },
      silentRuntime(),
    );
    assert.deepEqual(await collect(store.range({ ...query, pageSize: 10 })), points);
    assert.deepEqual(
      adapter.requests.map(({ cursor }) => cursor),
      [undefined, 10, 10, 20],
    );
  });

  it('folds pages in ascending order when the backend cannot aggregate', async () => {
    const adapter = new ScriptedAdapter();
    const store = guardTimeSeries(adapter, {}, silentRuntime());
    const windows = await store.aggregate(
      { ...query, pageSize: 10 },
      { step: 10_000, functions: ['sum', 'first', 'last'] },
    );
    assert.deepEqual(windows, [
      { start: 0, values: { v: { sum: 45, first: 0, last: 9 } } },
      { start: 10_000, values: { v: { sum: 145, first: 10, last: 19 } } },
      { start: 20_000, values: { v: { sum: 110, first: 20, last: 24 } } },
    ]);
    assert.ok(adapter.requests.every(({ request }) => request.order === 'asc' && request.limit === Infinity));
    assert.equal(adapter.requests.length, 3);
  });

  it("uses the backend's own aggregate when it has one, with checked functions", async () => {
    const adapter = new ScriptedAdapter();
    const seen: AggregateOptions[] = [];
    adapter.aggregate = (_request, options) => {
      seen.push(options);
      return Promise.resolve([{ start: 0, values: { v: { count: 25 } } }]);
    };
    const store = guardTimeSeries(adapter, {}, silentRuntime());
    const windows = await store.aggregate(query, { step: 100_000, functions: ['count', 'count'] });
    assert.deepEqual(windows, [{ start: 0, values: { v: { count: 25 } } }]);
    assert.deepEqual(seen, [{ step: 100_000, functions: ['count'] }]);
    assert.equal(adapter.requests.length, 0, 'range was not asked');
  });
});
