import assert from 'node:assert/strict';
import {
  aggregateFunctions,
  type AggregateFunction,
  type AggregateWindow,
  type StoredPoint,
  type TimeSeries,
} from '../ports/time-series.ts';

// What the conformance suite computes by hand and how it waits, kept apart from the cases.

export const allFunctions: readonly AggregateFunction[] = aggregateFunctions;

/**
 * The windows an aggregate must give, computed point by point: windows start at multiples of
 * `step`, hold the points of `[from, to)` (so the first may start before `from`), and a window
 * without points, or a field without values in it, is left out.
 */
export function expectedWindows(
  points: readonly StoredPoint[],
  from: number,
  to: number,
  step: number,
  functions: readonly AggregateFunction[],
): AggregateWindow[] {
  const inRange = points.filter((p) => p.time >= from && p.time < to).sort((a, b) => a.time - b.time);
  const byWindow = new Map<number, StoredPoint[]>();
  for (const p of inRange) {
    const start = Math.floor(p.time / step) * step;
    byWindow.set(start, [...(byWindow.get(start) ?? []), p]);
  }
  return [...byWindow.entries()]
    .sort(([a], [b]) => a - b)
    .map(([start, windowPoints]) => {
      const values: AggregateWindow['values'] = {};
      const fieldNames = new Set(windowPoints.flatMap((p) => Object.keys(p.fields)));
      for (const field of fieldNames) {
        const series = windowPoints.map((p) => p.fields[field]).filter((v) => v !== undefined);
        const sum = series.reduce((total, v) => total + v, 0);
        const all: Record<AggregateFunction, number> = {
          avg: sum / series.length,
          min: Math.min(...series),
          max: Math.max(...series),
          sum,
          count: series.length,
          first: series[0]!,
          last: series[series.length - 1]!,
        };
        values[field] = Object.fromEntries(functions.map((fn) => [fn, all[fn]]));
      }
      return { start, values };
    });
}

/** Windows equal to the expected ones; sums and averages within rounding (a server may add in another order). */
export function assertWindowsEqual(actual: AggregateWindow[], expected: AggregateWindow[]): void {
  assert.deepEqual(
    actual.map((w) => w.start),
    expected.map((w) => w.start),
    'window starts',
  );
  expected.forEach((window, i) => {
    const got = actual[i]!;
    assert.deepEqual(
      Object.keys(got.values).sort(),
      Object.keys(window.values).sort(),
      `fields at ${window.start}`,
    );
    for (const [field, values] of Object.entries(window.values)) {
      const gotValues = got.values[field]!;
      assert.deepEqual(Object.keys(gotValues).sort(), Object.keys(values).sort(), `functions of ${field}`);
      for (const [fn, value] of Object.entries(values)) {
        const actualValue = gotValues[fn as AggregateFunction];
        assert.ok(
          actualValue !== undefined && Math.abs(actualValue - value) <= 1e-9 * Math.max(1, Math.abs(value)),
          `${fn}(${field}) at ${window.start}: expected ${value}, got ${actualValue}`,
        );
      }
    }
  });
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** Polls `check` every 25 ms until it holds; fails after `withinMs`, saying what it waited for. */
export async function eventually(
  check: () => Promise<boolean>,
  withinMs: number,
  what: string,
): Promise<void> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    if (await check()) return;
    assert.ok(performance.now() < deadline, `${what} within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The points of one stream, ascending, as `range` reads them. */
export function readStream(
  store: TimeSeries,
  series: string,
  tags: Readonly<Record<string, string>>,
): Promise<StoredPoint[]> {
  return collect(store.range({ series, tags, from: 0, to: 253_402_300_799_999 }));
}

/** A tag set as a string that sorts and compares: keys in order. */
export function tagKey(tags: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : 1)));
}
