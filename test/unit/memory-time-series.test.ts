import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryTimeSeries } from '../../src/adapters/memory/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { ConfigError, type StoredPoint, type TimeSeries } from '../../src/ports/index.ts';
import { silentRuntime } from '../support/runtime.ts';

const everything = { from: 0, to: 253_402_300_799_999 };

async function times(store: TimeSeries, series: string, tags: Record<string, string>): Promise<number[]> {
  const read: StoredPoint[] = [];
  for await (const point of store.range({ series, tags, ...everything })) read.push(point);
  return read.map((point) => point.time);
}

describe('memory time series', () => {
  it('past maxPoints, evicts the oldest points of every stream first', async () => {
    const store = createMemoryTimeSeries({ maxPoints: 100 }, silentRuntime());
    const write = (host: string, from: number, count: number) =>
      store.write(
        Array.from({ length: count }, (_, i) => ({
          series: 'cpu',
          tags: { host },
          time: from + i,
          fields: { v: i },
        })),
      );
    await write('a', 1_000, 60);
    await write('b', 0, 60);
    const a = await times(store, 'cpu', { host: 'a' });
    const b = await times(store, 'cpu', { host: 'b' });
    assert.ok(a.length + b.length <= 100, `${a.length + b.length} points kept`);
    assert.ok(a.length + b.length >= 90, 'no more evicted than the bound needs, give or take 10%');
    assert.deepEqual(
      a,
      Array.from({ length: 60 }, (_, i) => 1_000 + i),
      "a's points are the newest: all kept",
    );
    assert.equal(b.at(-1), 59, "b's newest kept, its oldest gone");
    const health = await store.health();
    assert.equal(health.details?.points, a.length + b.length);
    await store.close();
  });

  it('drops expired points before evicting live ones', async () => {
    const store = createMemoryTimeSeries({ maxPoints: 10 }, silentRuntime());
    await store.write({ series: 'old', tags: {}, time: 0, fields: { v: 1 } });
    await store.write(
      Array.from({ length: 9 }, (_, i) => ({ series: 'new', tags: {}, time: 100 + i, fields: { v: i } })),
      { ttlMs: 1 },
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    await store.write({ series: 'new', tags: {}, time: 200, fields: { v: 1 } });
    assert.deepEqual(await times(store, 'old', {}), [0], 'the oldest point survives expired newer ones');
    assert.deepEqual(await times(store, 'new', {}), [200]);
    await store.close();
  });

  it('refuses bad options with a ConfigError naming each', () => {
    assert.throws(
      () =>
        createMemoryTimeSeries(
          { maxPoints: 0, defaultTtlMs: -1, seriesTtlMs: { 'bad name': 5 } },
          silentRuntime(),
        ),
      (error: unknown) =>
        error instanceof ConfigError &&
        ['maxPoints', 'defaultTtlMs', 'seriesTtlMs'].every((path) =>
          error.issues.some((i) => i.path.startsWith(path)),
        ),
    );
  });

  it('is built from TIME_SERIES_* variables', async () => {
    const config = await loadConfig({
      TIME_SERIES_DRIVER: 'memory',
      TIME_SERIES_MAX_POINTS: '5000',
      TIME_SERIES_DEFAULT_TTL_MS: '60000',
      TIME_SERIES_TIMEOUT_MS: '700',
    });
    assert.deepEqual(config.timeSeries, {
      driver: 'memory',
      maxPoints: 5_000,
      defaultTtlMs: 60_000,
      policies: { timeoutMs: 700 },
    });
  });
});
