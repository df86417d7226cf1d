// The filter cases of the document store suite: the portable operators, and MongoDB's semantics
// for them (null and missing, arrays, one type per comparison, dates), which every backend keeps.
import assert from 'node:assert/strict';
import type { Collection, DocumentFilter, StoredDocument } from '../ports/document-store.ts';

/** The people the suite seeds its collections with. */
export interface Person {
  name: string;
  age: number;
  address?: { city: string; zip?: string };
  tags?: string[];
}

const ids = (documents: readonly StoredDocument<object>[]): string[] => documents.map((d) => d._id);

/** The seeded people collection, filtered with each portable operator. */
export async function portableFilterCases(collection: Collection<Person>): Promise<void> {
  const cases: [DocumentFilter, string[]][] = [
    [{}, ['p1', 'p2', 'p3', 'p4', 'p5']],
    [{ name: 'Ada' }, ['p1']],
    [{ 'address.city': 'London' }, ['p1', 'p3']],
    [{ 'address.city': { $eq: 'Austin' } }, ['p4']],
    [{ 'address.city': { $ne: 'London' } }, ['p2', 'p4', 'p5']],
    [{ age: { $gt: 41 } }, ['p2', 'p4']],
    [{ age: { $gte: 41 } }, ['p2', 'p3', 'p4']],
    [{ age: { $lt: 41 } }, ['p1', 'p5']],
    [{ age: { $lte: 41 } }, ['p1', 'p3', 'p5']],
    [{ age: { $gt: 36, $lt: 72 } }, ['p2', 'p3']],
    [{ 'address.city': { $in: ['Austin', 'New York'] } }, ['p2', 'p4']],
    [{ 'address.city': { $nin: ['London'] } }, ['p2', 'p4', 'p5']],
    [{ 'address.zip': { $exists: true } }, ['p1', 'p3']],
    [{ 'address.zip': { $exists: false } }, ['p2', 'p4', 'p5']],
    [{ tags: 'code' }, ['p1', 'p2']],
    [{ $and: [{ age: 36 }, { 'address.city': 'London' }] }, ['p1']],
    [{ $or: [{ name: 'Edsger' }, { 'address.zip': 'SW1' }] }, ['p3', 'p4']],
    [{ $or: [{ age: { $gte: 70 } }, { $and: [{ age: 36 }, { tags: { $exists: false } }] }] }, ['p4', 'p5']],
    [{ name: 'Nobody' }, []],
  ];
  for (const [filter, expected] of cases) {
    assert.deepEqual(ids(await collection.find(filter)), expected, JSON.stringify(filter));
    assert.equal(await collection.count(filter), expected.length, `count ${JSON.stringify(filter)}`);
  }
}

/** An empty collection: filled with documents of several shapes, then matched as MongoDB does. */
export async function mongoSemanticsCases(items: Collection<Record<string, unknown>>): Promise<void> {
  const day = (d: number): Date => new Date(Date.UTC(2026, 0, d));
  await items.insert({
    _id: 'a',
    n: 1,
    at: day(1),
    lines: [{ sku: 'x', qty: 2 }, { sku: 'y' }],
    tags: ['t1'],
  });
  await items.insert({ _id: 'b', n: '5', at: day(3), lines: [{ sku: 'y', qty: 9 }], tags: [] });
  await items.insert({ _id: 'c', n: null, lines: [], tags: ['t2', 't1'] });
  await items.insert({ _id: 'd', n: 7, at: day(2) });
  const cases: [DocumentFilter, string[]][] = [
    [{ n: null }, ['c']],
    [{ missing: null }, ['a', 'b', 'c', 'd']],
    [{ n: { $ne: null } }, ['a', 'b', 'd']],
    [{ n: { $gt: 0 } }, ['a', 'd']],
    [{ n: { $lt: 'z' } }, ['b']],
    [{ n: { $gte: null } }, ['c']],
    [{ n: { $in: [null, 7] } }, ['c', 'd']],
    [{ n: { $nin: [1, '5'] } }, ['c', 'd']],
    [{ 'lines.sku': 'y' }, ['a', 'b']],
    [{ 'lines.qty': { $gt: 5 } }, ['b']],
    [{ 'lines.qty': { $exists: true } }, ['a', 'b']],
    [{ 'lines.0.sku': 'x' }, ['a']],
    [{ 'tags.1': 't1' }, ['c']],
    [{ tags: { $ne: 't1' } }, ['b', 'd']],
    [{ tags: ['t2', 't1'] }, ['c']],
    [{ tags: ['t1', 't2'] }, []],
    [{ at: { $gte: day(2) } }, ['b', 'd']],
    [{ at: day(1) }, ['a']],
    [{ at: { $lt: day(3), $exists: true } }, ['a', 'd']],
  ];
  for (const [filter, expected] of cases) {
    assert.deepEqual(
      (await items.find(filter)).map((d) => d._id),
      expected,
      JSON.stringify(filter),
    );
  }
  // Types in BSON order: null, numbers, strings (sorting on a path through an array is not portable).
  assert.deepEqual(
    (await items.find({}, { sort: { n: 1 } })).map((d) => d._id),
    ['c', 'a', 'd', 'b'],
  );
}
