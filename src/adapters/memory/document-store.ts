import type { HealthResult } from '../../ports/component.ts';
import type {
  DocumentAdapterFindOptions,
  DocumentFilter,
  DocumentStore,
  DocumentStoreAdapter,
  RawDocument,
} from '../../ports/document-store.ts';
import type { ErrorClassification } from '../../ports/errors.ts';
import { parseOptions } from '../../runtime/options/validate.ts';
import { memoryDocumentStoreOptionsSchema, type MemoryDocumentStoreOptions } from './options.ts';
import { applyPatch, matchesFilter, sortDocuments } from './document-query.ts';
import { guardDocumentStore } from '../../runtime/documents/guarded-document-store.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';

// A driver-like error, so the guard names the port and operation when it classifies it.
class DuplicateKeyError extends Error {
  override name = 'DuplicateKeyError';
}

interface MemoryCollection {
  documents: Map<string, RawDocument>;
  uniquePaths: Set<string>;
}

function valueAt(document: Record<string, unknown>, path: string): unknown {
  let value: unknown = document;
  for (const segment of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

// A missing field counts as null, as in a MongoDB unique index.
const uniqueKey = (value: unknown): string =>
  value === undefined ? 'null' : `${value instanceof Date ? 'date' : typeof value}:${JSON.stringify(value)}`;

/**
 * Documents in a Map per collection, matched and sorted with MongoDB's semantics for the portable
 * subset (document-query.ts); every document is copied on the way in and out.
 */
class MemoryDocumentStoreAdapter implements DocumentStoreAdapter {
  readonly system = 'memory';
  readonly #collections = new Map<string, MemoryCollection>();

  #collection(name: string): MemoryCollection {
    let collection = this.#collections.get(name);
    if (collection === undefined) {
      collection = { documents: new Map(), uniquePaths: new Set() };
      this.#collections.set(name, collection);
    }
    return collection;
  }

  #checkUnique(collection: MemoryCollection, document: RawDocument): void {
    for (const path of collection.uniquePaths) {
      const key = uniqueKey(valueAt(document, path));
      for (const other of collection.documents.values()) {
        if (other._id !== document._id && uniqueKey(valueAt(other, path)) === key) {
          throw new DuplicateKeyError(`duplicate value for unique index ${path}`);
        }
      }
    }
  }

  createUniqueIndexes(name: string, paths: readonly string[]): Promise<void> {
    const collection = this.#collection(name);
    for (const path of paths) {
      if (collection.uniquePaths.has(path)) continue;
      const seen = new Set<string>();
      for (const document of collection.documents.values()) {
        const key = uniqueKey(valueAt(document, path));
        if (seen.has(key))
          return Promise.reject(new DuplicateKeyError(`existing documents repeat a value of ${path}`));
        seen.add(key);
      }
      collection.uniquePaths.add(path);
    }
    return Promise.resolve();
  }

  insert(name: string, document: RawDocument): Promise<void> {
    const collection = this.#collection(name);
    if (collection.documents.has(document._id)) return Promise.reject(new DuplicateKeyError('duplicate _id'));
    const copy = structuredClone(document);
    try {
      this.#checkUnique(collection, copy);
    } catch (error) {
      return Promise.reject(error);
    }
    collection.documents.set(copy._id, copy);
    return Promise.resolve();
  }

  get(name: string, id: string): Promise<RawDocument | undefined> {
    const document = this.#collections.get(name)?.documents.get(id);
    return Promise.resolve(document === undefined ? undefined : structuredClone(document));
  }

  #matching(name: string, filter: DocumentFilter): RawDocument[] {
    const documents = this.#collections.get(name)?.documents.values() ?? [];
    return [...documents].filter((document) => matchesFilter(document, filter));
  }

  find(name: string, filter: DocumentFilter, options: DocumentAdapterFindOptions): Promise<RawDocument[]> {
    const sorted = sortDocuments(this.#matching(name, filter), options.sort);
    const from = options.skip ?? 0;
    const page = sorted.slice(from, options.limit === undefined ? undefined : from + options.limit);
    return Promise.resolve(page.map((document) => structuredClone(document)));
  }

  count(name: string, filter: DocumentFilter): Promise<number> {
    return Promise.resolve(this.#matching(name, filter).length);
  }

  patch(
    name: string,
    id: string,
    set: Readonly<Record<string, unknown>>,
    unset: readonly string[],
    expectedVersion: number | undefined,
  ): Promise<RawDocument | undefined> {
    const collection = this.#collection(name);
    const current = collection.documents.get(id);
    if (current === undefined || (expectedVersion !== undefined && current._version !== expectedVersion))
      return Promise.resolve(undefined);
    const next = structuredClone(current);
    applyPatch(next, structuredClone(set), unset);
    next._version += 1;
    try {
      this.#checkUnique(collection, next);
    } catch (error) {
      return Promise.reject(error);
    }
    collection.documents.set(id, next);
    return Promise.resolve(structuredClone(next));
  }

  replace(name: string, document: RawDocument, expectedVersion: number): Promise<boolean> {
    const collection = this.#collection(name);
    const current = collection.documents.get(document._id);
    if (current === undefined || current._version !== expectedVersion) return Promise.resolve(false);
    const copy = structuredClone(document);
    try {
      this.#checkUnique(collection, copy);
    } catch (error) {
      return Promise.reject(error);
    }
    collection.documents.set(copy._id, copy);
    return Promise.resolve(true);
  }

  delete(name: string, id: string, expectedVersion: number | undefined): Promise<number> {
    const collection = this.#collections.get(name);
    const current = collection?.documents.get(id);
    if (current === undefined || (expectedVersion !== undefined && current._version !== expectedVersion))
      return Promise.resolve(0);
    collection?.documents.delete(id);
    return Promise.resolve(1);
  }

  probe(): Promise<HealthResult> {
    return Promise.resolve({ status: 'up', details: { collections: this.#collections.size } });
  }

  classifyError(error: unknown): ErrorClassification {
    return error instanceof DuplicateKeyError
      ? { reason: 'conflict', retryable: false }
      : { reason: 'internal' };
  }

  close(): Promise<void> {
    this.#collections.clear();
    return Promise.resolve();
  }
}

export function createMemoryDocumentStore(
  options: MemoryDocumentStoreOptions = {},
  runtime: Runtime = defaultRuntime(),
): DocumentStore {
  const parsed = parseOptions(memoryDocumentStoreOptionsSchema, options, 'memory document store options');
  return guardDocumentStore(new MemoryDocumentStoreAdapter(), parsed, runtime);
}
