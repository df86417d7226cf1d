import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cache } from '../ports/cache.ts';
import { rejectsWith } from './infra-assertions.ts';
import { nodeTestApi, type TestApi } from './test-api.ts';

export interface CacheFeatures {
  /** Two instances created by `create` see each other's writes (a shared server). */
  shared: boolean;
}

export interface CacheConformanceOptions {
  name: string;
  /**
   * A new cache whose keys live in `namespace` (Redis: its `keyPrefix`). The suite calls
   * `clear()`, so a shared backend must honour `namespace` to keep other data safe.
   */
  create: (namespace: string) => Cache | Promise<Cache>;
  features: CacheFeatures;
  test?: TestApi;
}

/**
 * An entry set with `ttlMs` (its set sent at `setAt`) must still be there, unless the machine was
 * so slow that `ttlMs` has already passed: then only its absence is allowed, never another value.
 * So a stall cannot fail the check, while an entry that expires early still does.
 */
function assertUnexpired(actual: unknown, expected: unknown, setAt: number, ttlMs: number): void {
  if (actual === undefined && performance.now() - setAt >= ttlMs) return;
  assert.deepEqual(actual, expected, `gone before its ttl of ${ttlMs} ms`);
}

/** The behaviour every `Cache` adapter must show, run against memory and every real backend. */
export function cacheConformance(options: CacheConformanceOptions): void {
  const { describe, it } = options.test ?? nodeTestApi;
  // Namespaces and keys unique to this run, so a shared server can be reused between runs.
  const run = `conformance:${randomUUID()}:`;
  // Siblings, never nested: clearing one must not reach into another.
  const namespace = (name: string): string => `${run}${name}:`;
  const prefix = `${run}key:`;
  let counter = 0;
  const key = (): string => `${prefix}${++counter}`;

  const withCache =
    (fn: (cache: Cache) => Promise<void>, name = 'main') =>
    async (): Promise<void> => {
      const cache = await options.create(namespace(name));
      try {
        await fn(cache);
      } finally {
        await cache.close();
      }
    };

  describe(`cache conformance: ${options.name}`, () => {
    it(
      'has an id',
      withCache((cache) => {
        assert.equal(typeof cache.id, 'string');
        assert.ok(cache.id.length > 0);
        return Promise.resolve();
      }),
    );

    it(
      'returns undefined for a missing key',
      withCache(async (cache) => {
        assert.equal(await cache.get(key()), undefined);
        assert.equal(await cache.has(key()), false);
      }),
    );

    it(
      'round-trips JSON values as copies',
      withCache(async (cache) => {
        const values = [
          { a: 1, nested: { list: [1, 'two', null] } },
          [1, 2, 3],
          42,
          -0.5,
          'text',
          '',
          true,
          false,
          null,
        ];
        for (const value of values) {
          const k = key();
          await cache.set(k, value);
          assert.deepEqual(await cache.get(k), value);
        }
        const k = key();
        const original = { count: 1 };
        await cache.set(k, original);
        original.count = 2;
        const read = await cache.get<{ count: number }>(k);
        assert.deepEqual(read, { count: 1 });
        if (read) read.count = 3;
        assert.deepEqual(await cache.get(k), { count: 1 });
      }),
    );

    it(
      'refuses, as validation naming the path, any value JSON would not give back as it was, before any I/O',
      withCache(async (cache) => {
        const k = key();
        const circular: Record<string, unknown> = { list: [] };
        (circular.list as unknown[]).push({ back: circular });
        class Point {
          x = 1;
        }
        const cases: [string, unknown, string, RegExp][] = [
          ['a Map', { a: [0, 1, new Map([['x', 1]])] }, 'value.a[2]', /a Map cannot be stored/],
          ['a Set', new Set([1]), 'value', /a Set cannot be stored/],
          ['NaN', { n: Number.NaN }, 'value.n', /NaN cannot be stored/],
          ['Infinity', [Number.NEGATIVE_INFINITY], 'value[0]', /-Infinity cannot be stored/],
          ['undefined in an object', { a: 1, b: undefined }, 'value.b', /undefined cannot be stored/],
          ['undefined in an array', [1, undefined], 'value[1]', /undefined cannot be stored/],
          ['a hole in an array', new Array<number>(2), 'value[0]', /undefined cannot be stored/],
          ['a function', { 'odd key': () => 1 }, 'value["odd key"]', /a function cannot be stored/],
          ['a symbol', { s: Symbol('s') }, 'value.s', /a symbol cannot be stored/],
          ['a BigInt', { deep: { n: 10n } }, 'value.deep.n', /a BigInt cannot be stored/],
          ['a Date', { at: new Date(0) }, 'value.at', /a Date cannot be stored .*toISOString/],
          ['a class instance', { p: new Point() }, 'value.p', /a Point cannot be stored/],
          ['bytes', new Uint8Array([1]), 'value', /a Uint8Array cannot be stored/],
          ['a toJSON method', { toJSON: () => 1 }, 'value', /toJSON/],
          ['a cycle', circular, 'value.list[0].back', /a cycle cannot be stored/],
        ];
        for (const [name, value, path, message] of cases) {
          const error = await rejectsWith(cache.set(k, value), 'validation');
          assert.ok(error.message.includes(`set: ${path}: `), `${name}: ${error.message}`);
          assert.match(error.message, message, name);
          assert.deepEqual(
            { port: error.port, operation: error.operation, retryable: error.retryable },
            { port: 'cache', operation: 'set', retryable: false },
            name,
          );
        }
        const many = await rejectsWith(
          cache.setMany([
            { key: k, value: 1 },
            { key: key(), value: { tags: new Set(['a']) } },
          ]),
          'validation',
        );
        assert.match(many.message, /setMany: entries\[1\]\.value\.tags: a Set cannot be stored/);
        assert.equal(
          await cache.has(k),
          false,
          'setMany stored its first entry although the second was refused',
        );

        let calls = 0;
        const loaded = await rejectsWith(
          cache.getOrSet(k, () => {
            calls++;
            return Promise.resolve({ byId: new Map([[1, 'a']]) });
          }),
          'validation',
        );
        assert.match(loaded.message, /getOrSet: value\.byId: a Map cannot be stored/);
        assert.equal(await cache.has(k), false, 'the refused value of the loader was stored');
        assert.equal(await cache.getOrSet(k, () => Promise.resolve('fine')), 'fine');
        assert.equal(calls, 1);
      }),
    );

    it(
      'stores what JSON gives back alike: null-prototype objects, nesting, -0 as 0, shared objects as copies',
      withCache(async (cache) => {
        const k = key();
        const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 });
        const shared = { n: 1 };
        await cache.set(k, { bare, deep: [[[{ x: [] }]]], zero: -0, twice: [shared, shared], iso: 'x' });
        assert.deepEqual(await cache.get(k), {
          bare: { a: 1 },
          deep: [[[{ x: [] }]]],
          zero: 0,
          twice: [{ n: 1 }, { n: 1 }],
          iso: 'x',
        });
      }),
    );

    it(
      'overwrites, deletes and reports whether a key existed',
      withCache(async (cache) => {
        const k = key();
        await cache.set(k, 'first');
        await cache.set(k, 'second');
        assert.equal(await cache.get(k), 'second');
        assert.equal(await cache.has(k), true);
        assert.equal(await cache.delete(k), true);
        assert.equal(await cache.delete(k), false);
        assert.equal(await cache.has(k), false);
        assert.equal(await cache.get(k), undefined);
      }),
    );

    it(
      'expires entries after ttlMs, and a later set without ttl keeps the value',
      withCache(async (cache) => {
        const expiring = key();
        const kept = key();
        const setAt = performance.now();
        await cache.set(expiring, 'soon gone', { ttlMs: 150 });
        await cache.set(kept, 'short', { ttlMs: 150 });
        await cache.set(kept, 'forever');
        assertUnexpired(await cache.get(expiring), 'soon gone', setAt, 150);
        await sleep(400);
        assert.equal(await cache.get(expiring), undefined);
        assert.equal(await cache.has(expiring), false);
        assert.equal(await cache.get(kept), 'forever');
      }),
    );

    it(
      'gets and sets many, in order, with per-entry ttl',
      withCache(async (cache) => {
        const [a, b, c, missing] = [key(), key(), key(), key()];
        const setAt = performance.now();
        await cache.setMany([
          { key: a, value: 'A' },
          { key: b, value: { b: true } },
          { key: c, value: 3, ttlMs: 150 },
        ]);
        const [gotA, gotMissing, gotB, gotC] = await cache.getMany([a, missing, b, c]);
        assert.deepEqual([gotA, gotMissing, gotB], ['A', undefined, { b: true }]);
        assertUnexpired(gotC, 3, setAt, 150);
        assert.deepEqual(await cache.getMany([]), []);
        await sleep(400);
        assert.deepEqual(await cache.getMany([c, a]), [undefined, 'A']);
      }),
    );

    it(
      'getOrSet calls the loader once for concurrent callers and caches its value',
      withCache(async (cache) => {
        const k = key();
        let calls = 0;
        const loader = async (): Promise<{ n: number }> => {
          calls++;
          await sleep(30);
          return { n: calls };
        };
        const results = await Promise.all(Array.from({ length: 50 }, () => cache.getOrSet(k, loader)));
        assert.equal(calls, 1);
        for (const result of results) assert.deepEqual(result, { n: 1 });
        assert.deepEqual(await cache.getOrSet(k, loader), { n: 1 });
        assert.equal(calls, 1);
        assert.deepEqual(await cache.get(k), { n: 1 });
      }),
    );

    it(
      'getOrSet does not cache a loader failure',
      withCache(async (cache) => {
        const k = key();
        let calls = 0;
        const failing = (): Promise<string> => {
          calls++;
          return Promise.reject(new Error('loader broke'));
        };
        await assert.rejects(cache.getOrSet(k, failing), /loader broke/);
        assert.equal(await cache.has(k), false);
        assert.equal(await cache.getOrSet(k, () => Promise.resolve('loaded')), 'loaded');
        assert.equal(calls, 1);
      }),
    );

    it(
      'rejects bad input with validation before writing anything',
      withCache(async (cache) => {
        const k = key();
        const circular: Record<string, unknown> = {};
        circular.self = circular;
        await rejectsWith(cache.get(''), 'validation');
        await rejectsWith(cache.get(42 as unknown as string), 'validation');
        await rejectsWith(cache.set('x'.repeat(2000), 1), 'validation');
        await rejectsWith(cache.set(k, undefined), 'validation');
        await rejectsWith(cache.set(k, 10n), 'validation');
        await rejectsWith(cache.set(k, circular), 'validation');
        await rejectsWith(cache.set(k, 1, { ttlMs: -5 }), 'validation');
        await rejectsWith(cache.set(k, 1, { ttlMs: 1.5 }), 'validation');
        await rejectsWith(
          cache.setMany([
            { key: k, value: 1 },
            { key: '', value: 2 },
          ]),
          'validation',
        );
        await rejectsWith(
          cache.getOrSet(k, 'not a function' as unknown as () => Promise<number>),
          'validation',
        );
        assert.equal(await cache.has(k), false);
      }),
    );

    it(
      'lists keys by prefix, each once, over more entries than one page; clear() removes them all',
      withCache(async (cache) => {
        const paged = Array.from({ length: 2_500 }, (_, i) => `page:${i}`);
        await cache.setMany([...paged.map((k) => ({ key: k, value: 1 })), { key: 'other', value: 2 }]);
        const listed = await collect(cache.keys({ prefix: 'page:' }));
        assert.equal(listed.length, paged.length, 'a key was listed twice or missed');
        assert.deepEqual(new Set(listed), new Set(paged));
        assert.equal((await collect(cache.keys())).length, paged.length + 1);
        await cache.clear();
        assert.deepEqual(await collect(cache.keys()), []);
        assert.equal(await cache.get('other'), undefined);
        assert.equal(await cache.has('page:0'), false);
      }, 'scan'),
    );

    it('clear() leaves the entries of another namespace alone, and clears an empty cache', async () => {
      const mine = await options.create(namespace('clear-mine'));
      const theirs = await options.create(namespace('clear-theirs'));
      try {
        await mine.setMany([
          { key: 'k', value: 'mine' },
          { key: 'expiring', value: 1, ttlMs: 60_000 },
        ]);
        await theirs.set('k', 'theirs');
        await mine.clear();
        assert.equal(await mine.get('k'), undefined);
        assert.equal(await mine.has('expiring'), false);
        assert.equal(await theirs.get('k'), 'theirs');
        assert.deepEqual(await collect(theirs.keys()), ['k']);
        await mine.clear();
        await theirs.clear();
        assert.equal(await theirs.has('k'), false);
      } finally {
        await mine.close();
        await theirs.close();
      }
    });

    it(
      'keys() matches its prefix literally, skips expired entries and checks its input',
      withCache(async (cache) => {
        const literal = ['a*b', 'a?b', 'a[b]', 'a\\b', 'axb'];
        await cache.setMany([
          ...literal.map((k) => ({ key: k, value: 1 })),
          { key: 'gone', value: 1, ttlMs: 150 },
        ]);
        assert.deepEqual(await collect(cache.keys({ prefix: 'a*' })), ['a*b']);
        assert.deepEqual(await collect(cache.keys({ prefix: 'a?' })), ['a?b']);
        assert.deepEqual(await collect(cache.keys({ prefix: 'a[' })), ['a[b]']);
        assert.deepEqual(await collect(cache.keys({ prefix: 'a\\' })), ['a\\b']);
        assert.deepEqual(await collect(cache.keys({ prefix: 'none:' })), []);
        await sleep(400);
        assert.deepEqual((await collect(cache.keys())).sort(), [...literal].sort());
        await rejectsWith(collect(cache.keys({ prefix: 42 as unknown as string })), 'validation');
        await rejectsWith(collect(cache.keys({ prefix: 'x'.repeat(2000) })), 'validation');
        const stop = new Error('caller stopped');
        await assert.rejects(collect(cache.keys({ signal: AbortSignal.abort(stop) })), stop);
        await cache.clear();
      }, 'match'),
    );

    it('reports up and closes idempotently; operations after close fail as closed', async () => {
      const cache = await options.create(namespace('main'));
      const health = await cache.health();
      assert.equal(health.status, 'up', health.error);
      assert.equal(typeof health.latencyMs, 'number');
      await cache.close();
      await cache.close();
      await rejectsWith(cache.get(key()), 'closed');
      await rejectsWith(cache.clear(), 'closed');
      await rejectsWith(collect(cache.keys()), 'closed');
      assert.equal((await cache.health()).status, 'down');
    });

    it(
      options.features.shared ? 'shares entries between instances' : 'keeps entries private to an instance',
      async () => {
        const first = await options.create(namespace('main'));
        const second = await options.create(namespace('main'));
        try {
          const k = key();
          await first.set(k, 'written by first');
          assert.equal(await second.get(k), options.features.shared ? 'written by first' : undefined);
        } finally {
          await first.close();
          await second.close();
        }
      },
    );
  });
}

async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const k of keys) all.push(k);
  return all;
}
