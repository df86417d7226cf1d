import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { DocumentFilter, DocumentStore, StoredDocument } from '../ports/document-store.ts';
import { isInfraError } from '../ports/errors.ts';
import { mongoSemanticsCases, portableFilterCases, type Person } from './document-store-filter-cases.ts';
import { rejectsWith } from './infra-assertions.ts';
import { nodeTestApi, type TestApi } from './test-api.ts';

export interface DocumentStoreConformanceOptions {
  name: string;
  create: () => DocumentStore | Promise<DocumentStore>;
  test?: TestApi;
}

const people: (Person & { _id: string })[] = [
  { _id: 'p1', name: 'Ada', age: 36, address: { city: 'London', zip: 'N1' }, tags: ['math', 'code'] },
  { _id: 'p2', name: 'Grace', age: 45, address: { city: 'New York' }, tags: ['navy', 'code'] },
  { _id: 'p3', name: 'Alan', age: 41, address: { city: 'London', zip: 'SW1' } },
  { _id: 'p4', name: 'Edsger', age: 72, address: { city: 'Austin' }, tags: ['math'] },
  { _id: 'p5', name: 'Barbara', age: 36 },
];

/** The behaviour every `DocumentStore` adapter must show, run against memory and every real backend. */
export function documentStoreConformance(options: DocumentStoreConformanceOptions): void {
  const { describe, it } = options.test ?? nodeTestApi;
  // Collections unique to this run, so a shared server can be reused between runs.
  const run = randomUUID().slice(0, 8);
  let counter = 0;
  const collectionName = (): string => `conformance_${run}_${++counter}`;

  const withStore = (fn: (store: DocumentStore) => Promise<void>) => async (): Promise<void> => {
    const store = await options.create();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };
  const seeded = async (store: DocumentStore) => {
    const collection = store.collection<Person>(collectionName());
    for (const person of people) await collection.insert(person);
    return collection;
  };
  const ids = (documents: readonly StoredDocument<Person>[]): string[] => documents.map((d) => d._id);

  describe(`document store conformance: ${options.name}`, () => {
    it(
      'has an id and reports up',
      withStore(async (store) => {
        assert.ok(store.id.length > 0);
        assert.equal((await store.health()).status, 'up');
      }),
    );

    it(
      'inserts with an assigned id and version 1, and reads back copies',
      withStore(async (store) => {
        const collection = store.collection<Person>(collectionName());
        const stored = await collection.insert({ name: 'Ada', age: 36, address: { city: 'London' } });
        assert.equal(typeof stored._id, 'string');
        assert.ok(stored._id.length > 0);
        assert.equal(stored._version, 1);
        const read = await collection.get(stored._id);
        assert.deepEqual(read, {
          _id: stored._id,
          _version: 1,
          name: 'Ada',
          age: 36,
          address: { city: 'London' },
        });
        read.address.city = 'Paris';
        stored.name = 'changed';
        assert.deepEqual((await collection.get(stored._id))?.address, { city: 'London' });
        assert.equal((await collection.get(stored._id))?.name, 'Ada');
        const given = await collection.insert({ _id: 'given-id', name: 'Grace', age: 45, _version: 9 });
        assert.equal(given._id, 'given-id');
        assert.equal(given._version, 1);
        assert.equal(await collection.get('missing'), undefined);
      }),
    );

    it(
      'refuses a duplicate id with conflict',
      withStore(async (store) => {
        const collection = store.collection<Person>(collectionName());
        await collection.insert({ _id: 'dup', name: 'Ada', age: 36 });
        await rejectsWith(collection.insert({ _id: 'dup', name: 'Other', age: 1 }), 'conflict');
        assert.equal((await collection.get('dup'))?.name, 'Ada');
      }),
    );

    it(
      'filters with the portable operators on dotted paths',
      withStore(async (store) => {
        const collection = await seeded(store);
        await portableFilterCases(collection);
      }),
    );

    it(
      'matches as MongoDB does: null and missing, arrays of documents, indexes, one type per comparison, dates',
      withStore(async (store) => {
        await mongoSemanticsCases(store.collection<Record<string, unknown>>(collectionName()));
      }),
    );

    it(
      'sorts, skips and limits, breaking ties by _id',
      withStore(async (store) => {
        const collection = await seeded(store);
        assert.deepEqual(ids(await collection.find({}, { sort: { age: -1 } })), [
          'p4',
          'p2',
          'p3',
          'p1',
          'p5',
        ]);
        assert.deepEqual(ids(await collection.find({}, { sort: { age: 1 } })), [
          'p1',
          'p5',
          'p3',
          'p2',
          'p4',
        ]);
        assert.deepEqual(ids(await collection.find({}, { sort: { name: 1 } })), [
          'p1',
          'p3',
          'p5',
          'p4',
          'p2',
        ]);
        assert.deepEqual(
          ids(
            await collection.find(
              { 'address.city': { $exists: true } },
              { sort: { 'address.city': 1, age: -1 } },
            ),
          ),
          ['p4', 'p3', 'p1', 'p2'],
        );
        assert.deepEqual(ids(await collection.find({}, { sort: { age: 1 }, limit: 2 })), ['p1', 'p5']);
        assert.deepEqual(ids(await collection.find({}, { sort: { age: 1 }, skip: 2, limit: 2 })), [
          'p3',
          'p2',
        ]);
        assert.deepEqual(ids(await collection.find({}, { sort: { age: 1 }, skip: 4 })), ['p4']);
        assert.deepEqual(ids(await collection.find({}, { skip: 10 })), []);
      }),
    );

    it(
      'updates by dotted patch, removing fields set to undefined, and bumps the version',
      withStore(async (store) => {
        const collection = await seeded(store);
        const updated = await collection.update('p1', { 'address.city': 'Paris', age: 37, tags: undefined });
        assert.equal(updated._version, 2);
        assert.deepEqual(updated, {
          _id: 'p1',
          _version: 2,
          name: 'Ada',
          age: 37,
          address: { city: 'Paris', zip: 'N1' },
        });
        assert.deepEqual(await collection.get('p1'), updated);
        const again = await collection.update('p1', { 'address.country': 'FR' }, { expectedVersion: 2 });
        assert.equal(again._version, 3);
        assert.deepEqual(again.address, { city: 'Paris', zip: 'N1', country: 'FR' } as Person['address']);
      }),
    );

    it(
      'replaces the whole document, keeping its id',
      withStore(async (store) => {
        const collection = await seeded(store);
        const replaced = await collection.replace('p1', { name: 'Ada L.', age: 37 });
        assert.deepEqual(replaced, { _id: 'p1', _version: 2, name: 'Ada L.', age: 37 });
        assert.deepEqual(await collection.get('p1'), replaced);
        const current = (await collection.get('p1'))!;
        const next = await collection.replace(
          'p1',
          { ...current, age: 38 },
          { expectedVersion: current._version },
        );
        assert.equal(next._version, 3);
        assert.equal(next.age, 38);
      }),
    );

    it(
      'upserts: inserts when absent, replaces when present',
      withStore(async (store) => {
        const collection = store.collection<Person>(collectionName());
        const inserted = await collection.upsert('u1', { name: 'Ada', age: 36, tags: ['x'] });
        assert.deepEqual(inserted, { _id: 'u1', _version: 1, name: 'Ada', age: 36, tags: ['x'] });
        const replaced = await collection.upsert('u1', { name: 'Ada', age: 37 });
        assert.deepEqual(replaced, { _id: 'u1', _version: 2, name: 'Ada', age: 37 });
        assert.deepEqual(await collection.get('u1'), replaced);
        await rejectsWith(collection.upsert('u1', { name: 'x', age: 1 }, { expectedVersion: 1 }), 'conflict');
        await rejectsWith(collection.upsert('u2', { name: 'x', age: 1 }, { expectedVersion: 1 }), 'conflict');
        assert.equal(await collection.get('u2'), undefined);
        assert.equal(
          (await collection.upsert('u1', { name: 'y', age: 2 }, { expectedVersion: 2 }))._version,
          3,
        );
      }),
    );

    it(
      'creates declared unique indexes on start and refuses duplicates with conflict',
      withStore(async (store) => {
        const users = store.collection<{ email: string; profile?: { handle: string } }>(collectionName(), {
          uniqueIndexes: ['email', 'profile.handle'],
        });
        await store.start();
        await users.insert({ _id: 'a', email: 'a@example.com', profile: { handle: 'ada' } });
        await users.insert({ _id: 'b', email: 'b@example.com', profile: { handle: 'bob' } });
        await rejectsWith(users.insert({ email: 'a@example.com', profile: { handle: 'new' } }), 'conflict');
        await rejectsWith(users.insert({ email: 'c@example.com', profile: { handle: 'ada' } }), 'conflict');
        await rejectsWith(users.update('b', { email: 'a@example.com' }), 'conflict');
        await rejectsWith(
          users.replace('b', { email: 'b@example.com', profile: { handle: 'ada' } }),
          'conflict',
        );
        await rejectsWith(
          users.upsert('c', { email: 'a@example.com', profile: { handle: 'c' } }),
          'conflict',
        );
        assert.equal(await users.count(), 2);
        assert.equal((await users.get('b'))?.email, 'b@example.com');
        assert.equal((await users.update('b', { email: 'b2@example.com' }))._version, 2);
        // Declared without start(): created on the collection's first use.
        const later = store.collection<{ code: string }>(collectionName(), { uniqueIndexes: ['code'] });
        await later.insert({ code: 'x' });
        await rejectsWith(later.insert({ code: 'x' }), 'conflict');
      }),
    );

    it(
      'refuses stale expected versions with conflict and reports missing documents as not_found',
      withStore(async (store) => {
        const collection = await seeded(store);
        await collection.update('p1', { age: 37 });
        await rejectsWith(collection.update('p1', { age: 38 }, { expectedVersion: 1 }), 'conflict');
        await rejectsWith(
          collection.replace('p1', { name: 'x', age: 1 }, { expectedVersion: 1 }),
          'conflict',
        );
        await rejectsWith(collection.delete('p1', { expectedVersion: 1 }), 'conflict');
        assert.deepEqual(await collection.get('p1'), { ...people[0], _version: 2, age: 37 });
        await rejectsWith(collection.update('missing', { age: 1 }), 'not_found');
        await rejectsWith(collection.update('missing', { age: 1 }, { expectedVersion: 1 }), 'not_found');
        await rejectsWith(collection.replace('missing', { name: 'x', age: 1 }), 'not_found');
        await rejectsWith(
          collection.replace('missing', { name: 'x', age: 1 }, { expectedVersion: 1 }),
          'not_found',
        );
      }),
    );

    it(
      'deletes, resolving whether a document was there',
      withStore(async (store) => {
        const collection = await seeded(store);
        assert.equal(await collection.delete('p1', { expectedVersion: 1 }), true);
        assert.equal(await collection.get('p1'), undefined);
        assert.equal(await collection.delete('p1'), false);
        assert.equal(await collection.delete('p2'), true);
        assert.equal(await collection.count(), 3);
      }),
    );

    it(
      'rejects bad filters, ids, documents and options with validation before any I/O',
      withStore(async (store) => {
        const collection = store.collection<Person>(collectionName());
        await collection.insert({ _id: 'p1', name: 'Ada', age: 36 });
        // A closed store would answer any I/O with `closed`: validation must come first.
        await store.close();
        const badFilters: unknown[] = [
          { $where: 'this.age > 1' },
          { $expr: { $gt: ['$age', 1] } },
          { age: { $where: 'x' } },
          { name: { $function: { body: 'return true', args: [], lang: 'js' } } },
          { name: { $regex: '.*' } },
          { age: { $not: { $gt: 1 } } },
          { $foo: 1 },
          { $nor: [{ age: 1 }] },
          { age: { $gt: 1, plain: 2 } },
          { 'address.$city': 'x' },
          { '': 1 },
          { 'a..b': 1 },
          { name: { $eq: { $gt: '' } } },
          { name: { $ne: { $gt: '' } } },
          { name: { $in: [{ $gt: '' }] } },
          { name: { $in: 'Ada' } },
          { name: { $exists: 'yes' } },
          { address: { city: { $gt: '' } } },
          { $or: [] },
          { $or: { name: 'Ada' } },
          { $and: [{ $where: '1' }] },
          { name: undefined },
          { name: () => true },
          { name: /Ada/ },
          { age: Number.NaN },
          'name = Ada',
          [{ name: 'Ada' }],
        ];
        for (const filter of badFilters) {
          await rejectsWith(collection.find(filter as DocumentFilter), 'validation');
          await rejectsWith(collection.count(filter as DocumentFilter), 'validation');
        }
        const injected = { $gt: '' } as unknown as string;
        await rejectsWith(collection.get(injected), 'validation');
        await rejectsWith(collection.update(injected, { age: 1 }), 'validation');
        await rejectsWith(collection.delete(injected), 'validation');
        await rejectsWith(collection.replace(injected, { name: 'x', age: 1 }), 'validation');
        await rejectsWith(collection.get(''), 'validation');
        await rejectsWith(collection.insert({ _id: injected, name: 'x', age: 1 }), 'validation');
        await rejectsWith(
          collection.insert({ name: { $gt: '' }, age: 1 } as unknown as Person),
          'validation',
        );
        await rejectsWith(collection.insert({ 'a.b': 1 } as unknown as Person), 'validation');
        await rejectsWith(collection.update('p1', { _version: 5 }), 'validation');
        await rejectsWith(collection.update('p1', { _id: 'other' }), 'validation');
        await rejectsWith(collection.update('p1', { $set: { age: 1 } }), 'validation');
        await rejectsWith(
          collection.update('p1', { address: { city: 'x' }, 'address.city': 'y' }),
          'validation',
        );
        await rejectsWith(collection.update('p1', {}), 'validation');
        await rejectsWith(collection.update('p1', { age: 1 }, { expectedVersion: 0 }), 'validation');
        await rejectsWith(collection.replace('p1', { _id: 'p2', name: 'x', age: 1 } as Person), 'validation');
        await rejectsWith(collection.find({}, { sort: { age: 2 as 1 } }), 'validation');
        await rejectsWith(collection.find({}, { sort: { $natural: 1 } }), 'validation');
        await rejectsWith(collection.find({}, { limit: 0 }), 'validation');
        await rejectsWith(collection.find({}, { skip: -1 }), 'validation');
        for (const name of ['', 'has space', '$cmd', 'system.users', 'a'.repeat(121)])
          assert.throws(
            () => store.collection(name),
            (error: unknown) => isInfraError(error) && error.reason === 'validation',
          );
        assert.throws(
          () => store.collection('ok', { uniqueIndexes: ['$bad'] }),
          (error: unknown) => isInfraError(error) && error.reason === 'validation',
        );
        await rejectsWith(collection.find({ name: 'Ada' }), 'closed');
      }),
    );

    it(
      'lets exactly one of 50 concurrent read-modify-write updates win each version, losing none',
      withStore(async (store) => {
        const collection = store.collection<{ counter: number }>(collectionName());
        await collection.insert({ _id: 'counter', counter: 0 });
        const winners: number[] = [];
        let conflicts = 0;
        const increment = async (): Promise<void> => {
          for (;;) {
            const current = (await collection.get('counter'))!;
            try {
              const next = await collection.update(
                'counter',
                { counter: current.counter + 1 },
                { expectedVersion: current._version },
              );
              winners.push(next._version);
              return;
            } catch (error) {
              if (!isInfraError(error) || error.reason !== 'conflict') throw error;
              conflicts++;
            }
          }
        };
        await Promise.all(Array.from({ length: 50 }, increment));
        const final = await collection.get('counter');
        assert.equal(final?.counter, 50);
        assert.equal(final?._version, 51);
        assert.deepEqual(
          winners.toSorted((a, b) => a - b),
          Array.from({ length: 50 }, (_, i) => i + 2),
        );
        assert.ok(conflicts > 0, 'the updates should have overlapped');
      }),
    );

    it(
      'rejects operations once closed, and close is idempotent',
      withStore(async (store) => {
        const collection = store.collection(collectionName());
        await store.close();
        await store.close();
        await rejectsWith(collection.get('x'), 'closed');
        assert.equal((await store.health()).status, 'down');
      }),
    );
  });
}
