import assert from 'node:assert/strict';
import type { Point, TimeSeries } from '../ports/time-series.ts';
import { collect, readStream, tagKey } from './time-series-expected.ts';
import { rejectsWith } from './infra-assertions.ts';

/** One call with bad input and the field its validation error must name. */
export interface BadInputCase {
  what: string;
  field: string;
  call: (store: TimeSeries) => Promise<unknown>;
}

const maxTime = 253_402_300_799_999;

/** Every input the port refuses before any I/O; `series` and `tags` name a valid stream. */
export function badInputCases(series: string, tags: Record<string, string>, time: number): BadInputCase[] {
  const good: Point = { series, tags, time, fields: { v: 1 } };
  const write = (what: string, field: string, point: Record<string, unknown>): BadInputCase => ({
    what,
    field,
    call: (store) => store.write([good, { ...good, ...point }]),
  });
  const range = (what: string, field: string, query: Record<string, unknown>): BadInputCase => ({
    what,
    field,
    call: (store) => collect(store.range({ series, tags, from: time, to: time + 1_000, ...query })),
  });
  const aggregate = (
    what: string,
    field: string,
    options: Record<string, unknown>,
    query = {},
  ): BadInputCase => ({
    what,
    field,
    call: (store) =>
      store.aggregate(
        { series, tags, from: 0, to: 3_600_000, ...query },
        {
          step: 60_000,
          functions: ['count'],
          ...options,
        },
      ),
  });
  const sixteen = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`t${i}`, 'v']));
  const tooManyFields = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`f${i}`, i]));
  return [
    {
      what: 'points that are not a point or a list',
      field: 'points',
      call: (s) => s.write(42 as unknown as Point),
    },
    write('an empty series name', 'series', { series: '' }),
    write('a series name with spaces and quotes', 'series', { series: "x'; DROP TABLE x; --" }),
    write('a series name of 201 characters', 'series', { series: 's'.repeat(201) }),
    write('a series name that is not a string', 'series', { series: 7 }),
    write('tags that are not an object', 'tags', { tags: 'host=a' }),
    write('tags as an array', 'tags', { tags: ['a'] }),
    write('17 tags', 'tags', { tags: { ...sixteen, t16: 'v' } }),
    write('a tag value that is a number', 'tags', { tags: { host: 1 } }),
    write('an empty tag value', 'tags', { tags: { host: '' } }),
    write('a tag value of 257 characters', 'tags', { tags: { host: 'v'.repeat(257) } }),
    write('a tag value that is not well-formed Unicode', 'tags', { tags: { host: 'a\uD800b' } }),
    write('a tag key with a space', 'tags', { tags: { 'bad key': 'v' } }),
    write('a hostile tag key', 'tags', { tags: { "k'); DROP TABLE x; --": 'v' } }),
    write('an empty tag key', 'tags', { tags: { '': 'v' } }),
    write('__proto__ as a tag key', 'tags', { tags: JSON.parse('{"__proto__":"v"}') as unknown }),
    write('a NaN time', 'time', { time: Number.NaN }),
    write('a time before 1970', 'time', { time: -1 }),
    write('a time after 9999', 'time', { time: maxTime + 1 }),
    write('a fractional time', 'time', { time: time + 0.5 }),
    write('an invalid Date', 'time', { time: new Date(Number.NaN) }),
    write('a time as a string', 'time', { time: '2026-01-01' }),
    write('no fields', 'fields', { fields: {} }),
    write('fields that are not an object', 'fields', { fields: 3 }),
    write('a NaN value', 'fields', { fields: { v: Number.NaN } }),
    write('an infinite value', 'fields', { fields: { v: Infinity } }),
    write('a value that is a string', 'fields', { fields: { v: '1' } }),
    write('a value that is a bigint', 'fields', { fields: { v: 1n } }),
    write('a field name with a space', 'fields', { fields: { 'bad field': 1 } }),
    write('65 fields', 'fields', { fields: tooManyFields }),
    ...[0, -5, 1.5, 630_720_000_001, Number.NaN].map((ttlMs): BadInputCase => ({
      what: `ttlMs ${ttlMs}`,
      field: 'ttlMs',
      call: (s) => s.write(good, { ttlMs }),
    })),
    range('from equal to to', 'from', { to: time }),
    range('from after to', 'from', { from: time + 2_000 }),
    range('a NaN from', 'from', { from: Number.NaN }),
    range('a to past 9999', 'to', { to: maxTime + 2 }),
    range('an unknown order', 'order', { order: 'up' }),
    range('limit 0', 'limit', { limit: 0 }),
    range('a fractional limit', 'limit', { limit: 1.5 }),
    range('pageSize 0', 'pageSize', { pageSize: 0 }),
    range('pageSize above 10,000', 'pageSize', { pageSize: 10_001 }),
    range('a bad series', 'series', { series: 'no spaces' }),
    range('bad tags', 'tags', { tags: { host: 2 } }),
    aggregate('step 0', 'step', { step: 0 }),
    aggregate('a fractional step', 'step', { step: 0.5 }),
    aggregate('a step giving 100,001 windows', 'step', { step: 1 }, { from: 0, to: 100_001 }),
    aggregate('no functions', 'functions', { functions: [] }),
    aggregate('an unknown function', 'functions', { functions: ['median'] }),
    aggregate('from after to', 'from', {}, { from: 10, to: 5 }),
    aggregate('pageSize 0', 'pageSize', {}, { pageSize: 0 }),
    { what: 'latest of a bad series', field: 'series', call: (s) => s.latest('', tags) },
    {
      what: 'latest with bad tags',
      field: 'tags',
      call: (s) => s.latest(series, null as unknown as Record<string, string>),
    },
    { what: 'tagSets of a bad series', field: 'series', call: (s) => s.tagSets('a b') },
  ];
}

/** Asserts that `bad` fails with `validation` naming its field (`points[1].time: …`, `from: …`). */
export async function assertRefused(store: TimeSeries, bad: BadInputCase): Promise<void> {
  const error = await rejectsWith(bad.call(store), 'validation');
  assert.match(
    error.message,
    new RegExp(`(^|[\\s.])${bad.field}(\\[\\d+\\])?: `),
    `${bad.what}: the error names ${bad.field}`,
  );
}

/** Hostile strings as tag values are data: stored and read back equal, the canary series untouched. */
export async function hostileTagValuesCase(
  store: TimeSeries,
  canary: string,
  series: string,
  time: number,
): Promise<void> {
  await store.write({ series: canary, tags: { table: 'x' }, time: time, fields: { alive: 1 } });
  const hostile = [
    "'); DROP TABLE x; --",
    `"double" 'single' \`back\` \\ %_*?`,
    'nul\0inside',
    'v'.repeat(256),
    'ünïcødé ✓ 🚀',
    ' ',
    '\n\t\r',
    '{"json":true}',
  ];
  const points = hostile.map((value, i) => ({
    series,
    tags: { host: value, other: value },
    time: time + i,
    fields: { v: i },
  }));
  await store.write(points);
  for (const point of points) {
    assert.deepEqual(await readStream(store, series, point.tags), [point]);
    assert.deepEqual(await store.latest(series, point.tags), point);
  }
  assert.deepEqual(
    (await store.tagSets(series)).map(tagKey).sort(),
    points.map((p) => tagKey(p.tags)).sort(),
  );
  assert.deepEqual(await readStream(store, canary, { table: 'x' }), [
    { series: canary, tags: { table: 'x' }, time, fields: { alive: 1 } },
  ]);
}
