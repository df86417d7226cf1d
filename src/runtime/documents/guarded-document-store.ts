import { randomUUID } from 'node:crypto';
import type { OperationContext, OperationOptions } from '../../ports/component.ts';
import {
  documentStoreOperations,
  type Collection,
  type DocumentCollectionOptions,
  type DocumentFilter,
  type DocumentFindOptions,
  type DocumentPatch,
  type DocumentStore,
  type DocumentStoreAdapter,
  type DocumentStoreOperation,
  type DocumentWriteOptions,
  type NewDocument,
  type RawDocument,
  type StoredDocument,
} from '../../ports/document-store.ts';
import { isInfraError } from '../../ports/errors.ts';
import {
  checkDocumentFilter,
  checkFindOptions,
  checkPatch,
  checkPath,
  isPlainObject,
  plainValue,
  type Fail,
} from './validation.ts';
import { Guard, type GuardedOptions, type GuardedPort } from '../guard/guard.ts';
import { rejecting } from '../guard/rejecting.ts';
import type { Runtime } from '../runtime.ts';
import { dbClientOperationDuration, spanAttributes } from '../telemetry/semconv.ts';

export type GuardedDocumentStoreOptions = GuardedOptions;

const collectionName = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,119}$/;
const maxIdLength = 512;
// Bounds the read-then-write loops of replace and upsert without an expected version.
const maxWriteAttempts = 20;

interface RegisteredCollection {
  paths: Set<string>;
  ready: Promise<void> | undefined;
}

const documentsPort: GuardedPort<DocumentStoreOperation> = {
  port: 'document-store',
  idPrefix: 'documents',
  operations: documentStoreOperations,
  metrics: dbClientOperationDuration,
};

/**
 * Builds the `DocumentStore` port around a backend once for every adapter: validation of names,
 * ids, filters and documents before any I/O, version bookkeeping, not_found vs conflict,
 * upsert, unique index creation, and `guard()`.
 */
export function guardDocumentStore(
  adapter: DocumentStoreAdapter,
  options: GuardedDocumentStoreOptions,
  runtime: Runtime,
): DocumentStore {
  const guard = Guard.forAdapter(documentsPort, adapter, options, runtime);
  const collections = new Map<string, RegisteredCollection>();

  const failFor =
    (operation: string): Fail =>
    (path, message) =>
      guard.invalid(operation, path, message);
  const isConflict = (error: unknown): boolean =>
    isInfraError(error) ? error.reason === 'conflict' : adapter.classifyError(error).reason === 'conflict';
  const checkId = (id: unknown, fail: Fail, at = 'id'): string => {
    if (typeof id !== 'string' || id.length === 0 || id.length > maxIdLength || id.includes('\0'))
      throw fail(at, `must be a string of 1 to ${maxIdLength} characters`);
    return id;
  };
  const checkVersion = (version: unknown, fail: Fail): number | undefined => {
    if (version === undefined) return undefined;
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1)
      throw fail('expectedVersion', 'must be a positive integer');
    return version;
  };
  const documentBody = (document: unknown, fail: Fail): Record<string, unknown> => {
    if (!isPlainObject(document)) throw fail('document', 'must be a plain object');
    const { _id: _ignoredId, _version: _ignoredVersion, ...fields } = document;
    return plainValue(fields, 'document', fail) as Record<string, unknown>;
  };

  const ensureIndexes = (name: string, opts: OperationOptions | undefined): Promise<void> => {
    const entry = collections.get(name);
    if (entry === undefined || entry.paths.size === 0) return Promise.resolve();
    if (entry.ready === undefined) {
      const paths = [...entry.paths];
      const ready = guard.run('createIndexes', opts, (ctx) => adapter.createUniqueIndexes(name, paths, ctx));
      entry.ready = ready;
      // A failed creation is tried again by the next operation.
      ready.catch(() => {
        if (entry.ready === ready) entry.ready = undefined;
      });
    }
    return entry.ready;
  };

  const conflictOrNotFound = async (
    name: string,
    id: string,
    operation: string,
    ctx: OperationContext,
  ): Promise<never> => {
    const current = await adapter.get(name, id, ctx);
    if (current === undefined) throw guard.error('not_found', operation, 'no document with this id');
    throw guard.error(
      'conflict',
      operation,
      `stale expectedVersion: the document is at version ${current._version}`,
      {
        retryable: false,
      },
    );
  };

  function makeCollection<T extends object>(name: string): Collection<T> {
    // Spans say `<operation> <collection>`, as the conventions name them.
    const span = { target: name, attributes: { [spanAttributes.dbCollectionName]: name } };
    const run = <R>(
      operation: keyof typeof documentStoreOperations,
      opts: OperationOptions | undefined,
      fn: (ctx: OperationContext) => Promise<R>,
    ): Promise<R> =>
      ensureIndexes(name, opts).then(() => guard.run(operation, opts, fn, undefined, undefined, span));
    const stored = (raw: RawDocument): StoredDocument<T> => raw as unknown as StoredDocument<T>;

    const replaceLoop = async (
      id: string,
      body: Record<string, unknown>,
      expected: number | undefined,
      insertWhenAbsent: boolean,
      operation: 'replace' | 'upsert',
      ctx: OperationContext,
    ): Promise<StoredDocument<T>> => {
      for (let attempt = 0; attempt < maxWriteAttempts; attempt++) {
        const current = await adapter.get(name, id, ctx);
        if (current === undefined) {
          if (!insertWhenAbsent) throw guard.error('not_found', operation, 'no document with this id');
          // An upsert that expects a version expects the document to exist.
          if (expected !== undefined)
            throw guard.error('conflict', operation, 'stale expectedVersion: no document with this id', {
              retryable: false,
            });
          const document: RawDocument = { ...body, _id: id, _version: 1 };
          try {
            await adapter.insert(name, document, ctx);
            return stored(document);
          } catch (error) {
            // Someone inserted it meanwhile: replace theirs; otherwise a unique index refused it.
            if (!isConflict(error) || (await adapter.get(name, id, ctx)) === undefined) throw error;
            continue;
          }
        }
        if (expected !== undefined && current._version !== expected) {
          throw guard.error(
            'conflict',
            operation,
            `stale expectedVersion: the document is at version ${current._version}`,
            {
              retryable: false,
            },
          );
        }
        const document: RawDocument = { ...body, _id: id, _version: current._version + 1 };
        if (await adapter.replace(name, document, current._version, ctx)) return stored(document);
        if (expected !== undefined) return conflictOrNotFound(name, id, operation, ctx);
      }
      throw guard.error('conflict', operation, `document kept changing over ${maxWriteAttempts} attempts`, {
        retryable: false,
      });
    };

    return {
      name,
      insert(document: NewDocument<T>, opts?: OperationOptions): Promise<StoredDocument<T>> {
        return rejecting(() => {
          const fail = failFor('insert');
          const id = (document as { _id?: unknown } | null)?._id;
          const raw: RawDocument = {
            ...documentBody(document, fail),
            _id: id === undefined ? randomUUID() : checkId(id, fail, 'document._id'),
            _version: 1,
          };
          return run('insert', opts, async (ctx) => {
            await adapter.insert(name, raw, ctx);
            return stored(raw);
          });
        });
      },
      get(id: string, opts?: OperationOptions): Promise<StoredDocument<T> | undefined> {
        return rejecting(() => {
          checkId(id, failFor('get'));
          return run('get', opts, async (ctx) => {
            const raw = await adapter.get(name, id, ctx);
            return raw === undefined ? undefined : stored(raw);
          });
        });
      },
      find(filter?: DocumentFilter, opts?: DocumentFindOptions): Promise<StoredDocument<T>[]> {
        return rejecting(() => {
          const fail = failFor('find');
          const checked = checkDocumentFilter(filter, fail);
          const findOptions = checkFindOptions(opts, fail);
          return run('find', opts, async (ctx) =>
            (await adapter.find(name, checked, findOptions, ctx)).map(stored),
          );
        });
      },
      count(filter?: DocumentFilter, opts?: OperationOptions): Promise<number> {
        return rejecting(() => {
          const checked = checkDocumentFilter(filter, failFor('count'));
          return run('count', opts, (ctx) => adapter.count(name, checked, ctx));
        });
      },
      update(id: string, patch: DocumentPatch, opts?: DocumentWriteOptions): Promise<StoredDocument<T>> {
        return rejecting(() => {
          const fail = failFor('update');
          checkId(id, fail);
          const expected = checkVersion(opts?.expectedVersion, fail);
          const { set, unset } = checkPatch(patch, fail);
          return run('update', opts, async (ctx) => {
            const raw = await adapter.patch(name, id, set, unset, expected, ctx);
            if (raw !== undefined) return stored(raw);
            if (expected === undefined) throw guard.error('not_found', 'update', 'no document with this id');
            return conflictOrNotFound(name, id, 'update', ctx);
          });
        });
      },
      replace(id: string, document: T, opts?: DocumentWriteOptions): Promise<StoredDocument<T>> {
        return rejecting(() => {
          const fail = failFor('replace');
          const body = checkReplacement(id, document, fail);
          const expected = checkVersion(opts?.expectedVersion, fail);
          return run('replace', opts, (ctx) => replaceLoop(id, body, expected, false, 'replace', ctx));
        });
      },
      upsert(id: string, document: T, opts?: DocumentWriteOptions): Promise<StoredDocument<T>> {
        return rejecting(() => {
          const fail = failFor('upsert');
          const body = checkReplacement(id, document, fail);
          const expected = checkVersion(opts?.expectedVersion, fail);
          return run('upsert', opts, (ctx) => replaceLoop(id, body, expected, true, 'upsert', ctx));
        });
      },
      delete(id: string, opts?: DocumentWriteOptions): Promise<boolean> {
        return rejecting(() => {
          const fail = failFor('delete');
          checkId(id, fail);
          const expected = checkVersion(opts?.expectedVersion, fail);
          return run('delete', opts, async (ctx) => {
            if ((await adapter.delete(name, id, expected, ctx)) > 0) return true;
            if (expected !== undefined && (await adapter.get(name, id, ctx)) !== undefined)
              return conflictOrNotFound(name, id, 'delete', ctx);
            return false;
          });
        });
      },
    };
  }

  const checkReplacement = (id: unknown, document: unknown, fail: Fail): Record<string, unknown> => {
    checkId(id, fail);
    const bodyId = (document as { _id?: unknown } | null)?._id;
    if (bodyId !== undefined && bodyId !== id) throw fail('document._id', 'differs from the id given');
    return documentBody(document, fail);
  };

  const store: DocumentStore = {
    ...guard.component(adapter),
    collection<T extends object>(
      name: string,
      collectionOptions: DocumentCollectionOptions = {},
    ): Collection<T> {
      const fail = failFor('collection');
      if (typeof name !== 'string' || !collectionName.test(name) || name.startsWith('system.'))
        throw fail('name', 'must be 1 to 120 letters, digits, _ . - and not start with system.');
      const declared: unknown = collectionOptions.uniqueIndexes ?? [];
      if (!Array.isArray(declared)) throw fail('uniqueIndexes', 'must be an array of field paths');
      const unique: string[] = [];
      for (const path of declared as unknown[]) {
        if (typeof path !== 'string') throw fail('uniqueIndexes', 'must be an array of field paths');
        unique.push(checkPath(path, 'uniqueIndexes', fail));
        if (path === '_id' || path === '_version')
          throw fail('uniqueIndexes', `${path} cannot take a unique index`);
      }
      let entry = collections.get(name);
      if (entry === undefined) {
        entry = { paths: new Set(), ready: undefined };
        collections.set(name, entry);
      }
      for (const path of unique) {
        if (!entry.paths.has(path)) {
          entry.paths.add(path);
          entry.ready = undefined;
        }
      }
      return makeCollection<T>(name);
    },
    async start(opts?: OperationOptions): Promise<void> {
      await Promise.all([...collections.keys()].map((name) => ensureIndexes(name, opts)));
    },
  };
  return store;
}
