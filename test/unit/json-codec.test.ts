import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runInNewContext } from 'node:vm';
import { toExactJson } from '../../src/runtime/json-codec.ts';

class Refused extends Error {
  readonly path: string;
  constructor(path: string, message: string, cause?: unknown) {
    super(`${path}: ${message}`, cause === undefined ? undefined : { cause });
    this.path = path;
  }
}

const encode = (value: unknown): string =>
  toExactJson(value, 'value', (path, message, cause) => new Refused(path, message, cause));

function refusal(value: unknown): Refused {
  try {
    encode(value);
  } catch (error) {
    assert.ok(error instanceof Refused, String(error));
    return error;
  }
  assert.fail(`${String(value)} was accepted`);
}

describe('toExactJson', () => {
  it('gives the text JSON.stringify gives, for values JSON.parse gives back deep-equal', () => {
    const values: unknown[] = [
      null,
      0,
      -1.5,
      'text',
      true,
      [],
      {},
      { a: [1, { b: 'c', d: [null, false] }], 'odd key': 2 },
      Object.assign(Object.create(null) as object, { a: 1 }),
      runInNewContext('({ a: [1, 2], b: { c: "d" } })'), // another realm's plain objects and arrays
    ];
    for (const value of values) {
      const text = encode(value);
      assert.equal(text, JSON.stringify(value));
      assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(value)));
    }
    assert.equal(encode(-0), '0');
  });

  it('names the path of the first value that would not come back as it was', () => {
    class Tags extends Array<string> {}
    const cases: [unknown, string, RegExp][] = [
      [undefined, 'value', /undefined cannot be stored/],
      [() => 1, 'value', /a function/],
      [{ list: [{}, { m: new Map() }] }, 'value.list[1].m', /a Map cannot be stored .*Object\.fromEntries/],
      [{ 'a-b': { $ok: [Number.NaN] } }, 'value["a-b"].$ok[0]', /NaN/],
      [{ tags: Tags.from(['a']) }, 'value.tags', /a Tags cannot be stored .*plain array/],
      [{ n: new Number(1) }, 'value.n', /a Number cannot be stored/],
      [Buffer.from('x'), 'value', /a Buffer cannot be stored/],
      [{ error: new Error('x') }, 'value.error', /an? Error cannot be stored/],
      [{ at: new Date(Number.NaN) }, 'value.at', /a Date/],
      [{ a: 1, b: 2n }, 'value.b', /a BigInt .*as a string/],
    ];
    for (const [value, path, message] of cases) {
      const error = refusal(value);
      assert.equal(error.path, path, error.message);
      assert.match(error.message, message);
    }
  });

  it('finds cycles where JSON.stringify throws, and keeps its error as the cause', () => {
    const list: unknown[] = [1];
    list.push({ inner: list });
    const error = refusal({ list });
    assert.equal(error.path, 'value.list[1].inner');
    assert.match(error.message, /a cycle cannot be stored/);
    assert.ok(error.cause instanceof TypeError);
    // The same object twice is no cycle: it is stored twice.
    const shared = { n: 1 };
    assert.equal(encode([shared, shared]), '[{"n":1},{"n":1}]');
  });

  it('refuses a getter that throws, and nesting past the stack, as unserializable', () => {
    const throwing = {
      get broken(): never {
        throw new Error('getter broke');
      },
    };
    assert.match(refusal(throwing).message, /^value: is not serializable as JSON/);
    let deep: unknown = 1;
    for (let depth = 0; depth < 200_000; depth++) deep = [deep];
    assert.equal(refusal(deep).path, 'value');
  });
});
