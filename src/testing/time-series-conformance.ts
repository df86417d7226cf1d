import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Point, StoredPoint, Tags, TimeSeries } from '../ports/time-series.ts';
import { rejectsWith } from './infra-assertions.ts';
import { nodeTestApi, type TestApi } from './test-api.ts';
import { assertRefused, badInputCases, hostileTagValuesCase } from './time-series-bad-input.ts';
import {
  allFunctions,
  assertWindowsEqual,
  collect,
  eventually,
  expectedWindows,
  readStream,
  tagKey,
} from './time-series-expected.ts';

export interface TimeSeriesFeatures {
  /** Two stores created for one namespace see each other's points (a shared server). */
  shared: boolean;
  /**
   * The unit the backend counts a TTL in: Cassandra counts whole seconds, so 1,000. The suite's
   * short TTLs are at least this long. Default 1,000.
   */
  ttlResolutionMs?: number;
}

/** The retention a store is created with: as the memory adapter's options of the same names. */
export interface TimeSeriesRetention {
  defaultTtlMs?: number;
  seriesTtlMs?: Readonly<Record<string, number>>;
}

export interface TimeSeriesConformanceOptions {
  name: string;
  /**
   * A new store whose series live apart from other namespaces' (memory: a fresh instance; a
   * server: a keyspace or a series prefix), with `retention` when given.
   */
  create: (namespace: string, retention?: TimeSeriesRetention) => TimeSeries | Promise<TimeSeries>;
  features: TimeSeriesFeatures;
  test?: TestApi;
}

const minute = 60_000;
// A fixed past minute: expiry counts from the write, never from a point's time.
const t0 = Date.UTC(2026, 0, 5, 12, 0);

/** The behaviour every `TimeSeries` adapter must show, run against memory and every real backend. */
export function timeSeriesConformance(options: TimeSeriesConformanceOptions): void {
  const { describe, it } = options.test ?? nodeTestApi;
  // Series names and namespaces unique to this run, so a shared server can be reused between runs.
  const run = randomBytes(4).toString('hex');
  let counter = 0;
  const newSeries = (): string => `conformance_${run}.s${++counter}`;
  const namespace = (name: string): string => `conformance_${run}_${name}`;
  const shortTtlMs = Math.max(300, options.features.ttlResolutionMs ?? 1_000);
  // An expired point may linger up to one unit past its TTL (Cassandra: the second it expires in).
  const expiryBoundMs = shortTtlMs + 2 * (options.features.ttlResolutionMs ?? 1_000) + 10_000;

  const withStore =
    (fn: (store: TimeSeries) => Promise<void>, retention?: TimeSeriesRetention, name = 'main') =>
    async (): Promise<void> => {
      const store = await options.create(namespace(name), retention);
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    };
  const stored = (series: string, tags: Tags, time: number, fields: Record<string, number>): StoredPoint => ({
    series,
    tags,
    time,
    fields,
  });

  describe(`time series conformance: ${options.name}`, () => {
    it(
      'has an id, takes one point or many, and reads times back as milliseconds',
      withStore(async (store) => {
        assert.ok(typeof store.id === 'string' && store.id.length > 0);
        const series = newSeries();
        await store.write({ series, tags: { host: 'a' }, time: new Date(t0), fields: { v: 1.5, w: -0 } });
        await store.write([{ series, tags: { host: 'a' }, time: t0 + 1, fields: { v: 2 } }]);
        await store.write([]);
        const points = await readStream(store, series, { host: 'a' });
        assert.deepEqual(points, [
          stored(series, { host: 'a' }, t0, { v: 1.5, w: -0 }),
          stored(series, { host: 'a' }, t0 + 1, { v: 2 }),
        ]);
        points[0]!.fields.v = 99;
        (points[0]!.tags as Record<string, string>).host = 'changed';
        assert.deepEqual(
          (await readStream(store, series, { host: 'a' }))[0],
          stored(series, { host: 'a' }, t0, { v: 1.5, w: -0 }),
          'reads are copies',
        );
      }),
    );

    it(
      'overwrites a point of the same series, tags and time: writing twice is writing once',
      withStore(async (store) => {
        const series = newSeries();
        const batch: Point[] = [0, 1, 2].map((i) => ({
          series,
          tags: { a: '1', b: '2' },
          time: t0 + i,
          fields: { v: i },
        }));
        await store.write(batch);
        await store.write(batch);
        assert.equal((await readStream(store, series, { a: '1', b: '2' })).length, 3);
        // The same tag set written in another key order is the same stream.
        await store.write({ series, tags: { b: '2', a: '1' }, time: t0 + 1, fields: { v: 10, extra: 1 } });
        assert.deepEqual(await readStream(store, series, { b: '2', a: '1' }), [
          stored(series, { a: '1', b: '2' }, t0, { v: 0 }),
          stored(series, { a: '1', b: '2' }, t0 + 1, { v: 10, extra: 1 }),
          stored(series, { a: '1', b: '2' }, t0 + 2, { v: 2 }),
        ]);
      }),
    );

    it(
      'matches the exact tag set: a point with more or fewer tags is another stream',
      withStore(async (store) => {
        const series = newSeries();
        const sets: Tags[] = [{}, { host: 'a' }, { host: 'a', region: 'eu' }, { host: 'b' }];
        await store.write(sets.map((tags, i) => ({ series, tags, time: t0, fields: { v: i } })));
        await store.write({ series: newSeries(), tags: { host: 'a' }, time: t0, fields: { v: 9 } });
        for (const [i, tags] of sets.entries()) {
          assert.deepEqual(await readStream(store, series, tags), [stored(series, tags, t0, { v: i })]);
          assert.deepEqual(await store.latest(series, tags), stored(series, tags, t0, { v: i }));
        }
        assert.deepEqual(await readStream(store, series, { region: 'eu' }), []);
        const listed = (await store.tagSets(series)).map(tagKey).sort();
        assert.deepEqual(listed, sets.map(tagKey).sort());
        assert.deepEqual(await store.tagSets(newSeries()), []);
      }),
    );

    it(
      'reads from inclusive to exclusive, ascending or descending, up to a limit',
      withStore(async (store) => {
        const series = newSeries();
        const tags = { host: 'a' };
        const at = (i: number): number => t0 + i * 1_000;
        await store.write(
          Array.from({ length: 10 }, (_, i) => ({ series, tags, time: at(i), fields: { v: i } })),
        );
        const times = async (query: Partial<Parameters<TimeSeries['range']>[0]>): Promise<number[]> =>
          (await collect(store.range({ series, tags, from: at(2), to: at(5), ...query }))).map((p) => p.time);
        assert.deepEqual(await times({}), [at(2), at(3), at(4)]);
        assert.deepEqual(await times({ from: at(2) + 1, to: at(5) + 1 }), [at(3), at(4), at(5)]);
        assert.deepEqual(await times({ order: 'desc' }), [at(4), at(3), at(2)]);
        assert.deepEqual(await times({ limit: 2 }), [at(2), at(3)]);
        assert.deepEqual(await times({ limit: 2, order: 'desc' }), [at(4), at(3)]);
        assert.deepEqual(await times({ from: new Date(at(8)), to: new Date(at(20)) }), [at(8), at(9)]);
        assert.deepEqual(await times({ from: at(20), to: at(30) }), []);
      }),
    );

    it(
      'pages through more points than a page, each point once, in order, stopping at the limit',
      withStore(async (store) => {
        const series = newSeries();
        const tags = { host: 'paged' };
        const points = Array.from({ length: 2_500 }, (_, i) =>
          stored(series, tags, t0 + i * 10, { v: i % 17, ...(i % 3 === 0 ? { w: i } : {}) }),
        );
        for (let i = 0; i < points.length; i += 500) await store.write(points.slice(i, i + 500));
        const all = { series, tags, from: t0, to: t0 + 100_000 };
        assert.deepEqual(await collect(store.range(all)), points);
        assert.deepEqual(await collect(store.range({ ...all, order: 'desc' })), [...points].reverse());
        assert.deepEqual(await collect(store.range({ ...all, pageSize: 7, limit: 20 })), points.slice(0, 20));
        assert.deepEqual(await collect(store.range({ ...all, limit: 1_500 })), points.slice(0, 1_500));
        assert.deepEqual(
          await collect(store.range({ ...all, order: 'desc', pageSize: 999, limit: 1_001 })),
          [...points].reverse().slice(0, 1_001),
        );
        const windows = await store.aggregate(
          { ...all, pageSize: 1_000 },
          { step: 1_000, functions: allFunctions },
        );
        assertWindowsEqual(windows, expectedWindows(points, all.from, all.to, 1_000, allFunctions));
      }),
    );

    it(
      'gives the newest point of a stream as latest, whatever the order of writes',
      withStore(async (store) => {
        const series = newSeries();
        const tags = { host: 'a' };
        assert.equal(await store.latest(series, tags), undefined);
        await store.write({ series, tags, time: t0 + 5_000, fields: { v: 5 } });
        await store.write({ series, tags, time: t0 + 3_000, fields: { v: 3 } });
        await store.write({ series, tags: { host: 'b' }, time: t0 + 9_000, fields: { v: 9 } });
        assert.deepEqual(await store.latest(series, tags), stored(series, tags, t0 + 5_000, { v: 5 }));
        await store.write({ series, tags, time: t0 + 5_000, fields: { v: 6 } });
        assert.deepEqual(await store.latest(series, tags), stored(series, tags, t0 + 5_000, { v: 6 }));
      }),
    );

    it(
      'aggregates every function per step-aligned window, leaving out empty windows and absent fields',
      withStore(async (store) => {
        const series = newSeries();
        const tags = { device: 'd1' };
        const points: StoredPoint[] = [];
        for (let i = 0; i < 120; i++) {
          const time = t0 + i * 7_000 + (i % 5) * 13;
          // Minutes 4 and 5 stay empty.
          if (time >= t0 + 4 * minute && time < t0 + 6 * minute) continue;
          points.push(
            stored(series, tags, time, { v: (i % 13) * 0.5 - 2, ...(i % 4 === 0 ? { w: i } : {}) }),
          );
        }
        await store.write([...points].reverse());
        await store.write({ series, tags: { device: 'other' }, time: t0 + 1, fields: { v: 1_000 } });
        // Not aligned: the first window starts before `from` and holds only the points from it.
        const from = t0 + 30_500;
        const to = t0 + 12 * minute + 15_000;
        for (const functions of [allFunctions, ['last', 'count'] as const]) {
          const windows = await store.aggregate({ series, tags, from, to }, { step: minute, functions });
          assertWindowsEqual(windows, expectedWindows(points, from, to, minute, functions));
          assert.ok(!windows.some((w) => w.start === t0 + 4 * minute || w.start === t0 + 5 * minute));
        }
        const hourly = await store.aggregate(
          { series, tags, from: t0, to: t0 + 60 * minute },
          { step: 60 * minute, functions: ['count'] },
        );
        assertWindowsEqual(hourly, expectedWindows(points, t0, t0 + 60 * minute, 60 * minute, ['count']));
        assert.deepEqual(
          await store.aggregate(
            { series: newSeries(), tags, from, to },
            { step: minute, functions: ['avg'] },
          ),
          [],
        );
      }),
    );

    it(
      'expires points written with a ttl, and keeps the others, on every read',
      withStore(async (store) => {
        const series = newSeries();
        const kept = { host: 'kept' };
        const gone = { host: 'gone' };
        const writtenAt = performance.now();
        await store.write({ series, tags: kept, time: t0, fields: { v: 0 } });
        await store.write({ series, tags: kept, time: t0 + 1, fields: { v: 1 } }, { ttlMs: 3_600_000 });
        await store.write({ series, tags: kept, time: t0 + 2, fields: { v: 2 } }, { ttlMs: shortTtlMs });
        await store.write({ series, tags: gone, time: t0, fields: { v: 3 } }, { ttlMs: shortTtlMs });
        const early = await readStream(store, series, kept);
        assert.ok(early.length === 3 || performance.now() - writtenAt >= shortTtlMs, 'gone before its ttl');
        await eventually(
          async () =>
            (await readStream(store, series, kept)).length === 2 &&
            (await store.latest(series, gone)) === undefined,
          expiryBoundMs,
          `points expired after a ttl of ${shortTtlMs} ms`,
        );
        assert.deepEqual((await store.latest(series, kept))?.time, t0 + 1);
        assert.deepEqual(await readStream(store, series, gone), []);
        const windows = await store.aggregate(
          { series, tags: kept, from: t0, to: t0 + minute },
          { step: minute, functions: ['count'] },
        );
        assert.deepEqual(windows, [{ start: t0, values: { v: { count: 2 } } }]);
        assert.deepEqual(
          (await store.tagSets(series)).map(tagKey),
          [tagKey(kept)],
          'a tag set whose points all expired is not listed',
        );
      }),
    );

    it('applies the store default and a series ttl, a write ttl overriding both', async () => {
      const defaults = newSeries();
      const longLived = newSeries();
      const store = await options.create(namespace('retention'), {
        defaultTtlMs: shortTtlMs,
        seriesTtlMs: { [longLived]: 3_600_000 },
      });
      const bySeries = await options.create(namespace('retention-series'), {
        seriesTtlMs: { [defaults]: shortTtlMs },
      });
      try {
        const tags = { host: 'a' };
        for (const target of [store, bySeries]) {
          await target.write({ series: defaults, tags, time: t0, fields: { v: 1 } });
          await target.write(
            { series: defaults, tags, time: t0 + 1, fields: { v: 2 } },
            { ttlMs: 3_600_000 },
          );
          await target.write({ series: longLived, tags, time: t0, fields: { v: 3 } });
        }
        for (const target of [store, bySeries]) {
          await eventually(
            async () => (await readStream(target, defaults, tags)).length === 1,
            expiryBoundMs,
            `a point expired by the default or series ttl of ${shortTtlMs} ms`,
          );
          assert.deepEqual(
            (await readStream(target, defaults, tags)).map((p) => p.fields.v),
            [2],
          );
          assert.deepEqual(
            (await readStream(target, longLived, tags)).map((p) => p.fields.v),
            [3],
          );
        }
      } finally {
        await store.close();
        await bySeries.close();
      }
    });

    it(
      'refuses bad input with validation naming the field, before any I/O, and writes nothing of a bad batch',
      withStore(async (store) => {
        const series = newSeries();
        const tags = { host: 'a' };
        const cases = badInputCases(series, tags, t0);
        await assertRefused(store, cases[1]!);
        assert.deepEqual(
          await readStream(store, series, tags),
          [],
          'the good point of a bad batch was written',
        );
        // A closed store answers any I/O with `closed`: validation must come first.
        await store.close();
        for (const bad of cases) await assertRefused(store, bad);
      }),
    );

    it(
      'stores hostile strings as tag values, as data, and reads them back equal',
      withStore(async (store) => {
        await hostileTagValuesCase(store, newSeries(), newSeries(), t0);
      }),
    );

    it(
      "rejects with the caller's signal reason when aborted",
      withStore(async (store) => {
        const stop = new Error('caller stopped');
        const signal = AbortSignal.abort(stop);
        const query = { series: newSeries(), tags: {}, from: t0, to: t0 + 1 };
        await assert.rejects(store.write({ ...query, time: t0, fields: { v: 1 } }, { signal }), stop);
        await assert.rejects(collect(store.range({ ...query, signal })), stop);
        await assert.rejects(store.latest(query.series, {}, { signal }), stop);
      }),
    );

    it('reports up and closes idempotently; operations after close fail as closed', async () => {
      const store = await options.create(namespace('main'));
      const health = await store.health();
      assert.equal(health.status, 'up', health.error);
      assert.equal(typeof health.latencyMs, 'number');
      await store.close();
      await store.close();
      const series = newSeries();
      await rejectsWith(store.write({ series, tags: {}, time: t0, fields: { v: 1 } }), 'closed');
      await rejectsWith(collect(store.range({ series, tags: {}, from: t0, to: t0 + 1 })), 'closed');
      await rejectsWith(store.latest(series, {}), 'closed');
      await rejectsWith(
        store.aggregate({ series, tags: {}, from: t0, to: t0 + 1 }, { step: 1, functions: ['sum'] }),
        'closed',
      );
      await rejectsWith(store.tagSets(series), 'closed');
      assert.equal((await store.health()).status, 'down');
    });

    it(
      options.features.shared
        ? 'shares points between instances of a namespace'
        : 'keeps points private to an instance',
      async () => {
        const first = await options.create(namespace('main'));
        const second = await options.create(namespace('main'));
        const other = await options.create(namespace('other'));
        try {
          const series = newSeries();
          await first.write({ series, tags: {}, time: t0, fields: { v: 1 } });
          assert.equal((await second.latest(series, {}))?.fields.v, options.features.shared ? 1 : undefined);
          assert.equal(await other.latest(series, {}), undefined, 'another namespace sees the point');
        } finally {
          await Promise.all([first.close(), second.close(), other.close()]);
        }
      },
    );
  });
}
