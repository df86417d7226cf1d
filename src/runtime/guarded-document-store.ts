import { randomUUID } from 'node:crypto';
import type { HealthResult, OperationContext, OperationOptions } from '../ports/component.ts';
import {
  documentStoreOperations,
  type Collection,
  type DocumentAdapterFindOptions,
  type DocumentCollectionOptions,
  type DocumentFilter,
  type DocumentFindOptions,
  type DocumentPatch,
  type DocumentSortDirection,
  type DocumentStore,
  type DocumentStoreAdapter,
  type DocumentWriteOptions,
  type NewDocument,
  type RawDocument,
  type StoredDocument,
} from '../ports/document-store.ts';
import { isInfraError, type InfraError } from '../ports/errors.ts';
import { Guard } from './guard.ts';
import { rejecting } from './rejecting.ts';
import type { PolicyOverrides, Runtime } from './runtime.ts';

export interface GuardedDocumentStoreOptions {
  /** Component id; default `documents:<system>`. */
  id?: string | undefined;
  policies?: PolicyOverrides | undefined;
}

const comparisonOperators: ReadonlySet<string> = new Set([
  '$eq',
  '$ne',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$in',
  '$nin',
  '$exists',
]);
// Named so the error says why: they run code or expressions on the server.
const forbiddenOperators: ReadonlySet<string> = new Set(['$where', '$expr', '$function', '$accumulator']);
const collectionName = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,119}$/;
const maxIdLength = 512;
const maxPathLength = 1024;
// MongoDB refuses documents nested deeper than 100 levels; stay well inside it.
const maxDepth = 64;
// Bounds the read-then-write loops of replace and upsert without an expected version.
const maxWriteAttempts = 20;
const metaFields: ReadonlySet<string> = new Set(['_id', '_version']);

type Fail = (message: string) => InfraError;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function checkPath(path: string, fail: Fail, what = 'field path'): string {
  if (path.length === 0 || path.length > maxPathLength)
    throw fail(`${what} must have 1 to ${maxPathLength} characters`);
  for (const segment of path.split('.')) {
    if (segment.length === 0) throw fail(`${what} has an empty segment`);
    if (segment.startsWith('$')) throw fail(`${what} segment may not start with $`);
    if (segment.includes('\0')) throw fail(`${what} may not contain NUL`);
  }
  return path;
}

/**
 * A copy of a plain JSON-like value (plus `Date`): object keys may not start with `$` or hold a
 * dot, so a value can never be read as an operator. Undefined properties are dropped, as JSON does.
 */
function plainValue(value: unknown, fail: Fail, depth = 0): unknown {
  if (depth > maxDepth) throw fail(`values may nest at most ${maxDepth} levels`);
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw fail('numbers must be finite');
      return value;
    case 'object': {
      if (value === null) return null;
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) throw fail('dates must be valid');
        return new Date(value.getTime());
      }
      if (Array.isArray(value)) {
        return value.map((item: unknown) => {
          if (item === undefined) throw fail('arrays may not hold undefined');
          return plainValue(item, fail, depth + 1);
        });
      }
      if (!isPlainObject(value))
        throw fail('values must be plain objects, arrays, strings, numbers, booleans, null or dates');
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        if (key.startsWith('$')) throw fail('object keys may not start with $ (operator injection?)');
        if (key.includes('.') || key.includes('\0') || key.length === 0)
          throw fail('object keys must be non-empty, without dots or NUL');
        if (item !== undefined) out[key] = plainValue(item, fail, depth + 1);
      }
      return out;
    }
    default:
      throw fail(`a value of type ${typeof value} cannot be stored or compared`);
  }
}

function checkCondition(value: unknown, fail: Fail, depth: number): unknown {
  if (!isPlainObject(value)) return plainValue(value, fail, depth);
  const keys = Object.keys(value);
  const operators = keys.filter((key) => key.startsWith('$'));
  if (operators.length === 0) return plainValue(value, fail, depth);
  if (operators.length !== keys.length) throw fail('a condition may not mix operators and fields');
  const out: Record<string, unknown> = {};
  for (const operator of operators) {
    const operand = value[operator];
    if (forbiddenOperators.has(operator)) throw fail(`${operator} is not allowed`);
    if (!comparisonOperators.has(operator)) throw fail(`unknown operator ${operator}`);
    if (operator === '$exists') {
      if (typeof operand !== 'boolean') throw fail('$exists takes true or false');
      out[operator] = operand;
    } else if (operator === '$in' || operator === '$nin') {
      if (!Array.isArray(operand)) throw fail(`${operator} takes an array`);
      out[operator] = plainValue(operand, fail, depth + 1);
    } else {
      if (operand === undefined) throw fail(`${operator} needs a value`);
      out[operator] = plainValue(operand, fail, depth + 1);
    }
  }
  return out;
}

/** Checks a filter against the portable subset and returns a copy of it. */
export function checkDocumentFilter(filter: unknown, fail: Fail, depth = 0): Record<string, unknown> {
  if (filter === undefined && depth === 0) return {};
  if (depth > maxDepth) throw fail(`filters may nest at most ${maxDepth} levels`);
  if (!isPlainObject(filter)) throw fail('a filter must be a plain object');
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(filter)) {
    if (value === undefined) throw fail('a filter may not hold undefined');
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0)
        throw fail(`${key} takes a non-empty array of filters`);
      out[key] = value.map((item: unknown) => checkDocumentFilter(item, fail, depth + 1));
    } else if (forbiddenOperators.has(key)) {
      throw fail(`${key} is not allowed`);
    } else if (key.startsWith('$')) {
      throw fail(`unknown operator ${key}`);
    } else {
      out[checkPath(key, fail)] = checkCondition(value, fail, depth + 1);
    }
  }
  return out;
}

interface RegisteredCollection {
  paths: Set<string>;
  ready: Promise<void> | undefined;
}

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
  const guard = new Guard(
    {
      id: options.id ?? `documents:${adapter.system}`,
      port: 'document-store',
      system: adapter.system,
      operations: documentStoreOperations,
      classifyError: (error) => adapter.classifyError(error),
      semconv: 'db',
      policies: options.policies,
    },
    runtime,
  );
  const collections = new Map<string, RegisteredCollection>();

  const failFor =
    (operation: string): Fail =>
    (message) =>
      guard.error('validation', operation, message);
  const isConflict = (error: unknown): boolean =>
    isInfraError(error) ? error.reason === 'conflict' : adapter.classifyError(error).reason === 'conflict';
  const checkId = (id: unknown, fail: Fail): string => {
    if (typeof id !== 'string' || id.length === 0 || id.length > maxIdLength || id.includes('\0'))
      throw fail(`an id must be a string of 1 to ${maxIdLength} characters`);
    return id;
  };
  const checkVersion = (version: unknown, fail: Fail): number | undefined => {
    if (version === undefined) return undefined;
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1)
      throw fail('expectedVersion must be a positive integer');
    return version;
  };
  const documentBody = (document: unknown, fail: Fail): Record<string, unknown> => {
    if (!isPlainObject(document)) throw fail('a document must be a plain object');
    const { _id: _ignoredId, _version: _ignoredVersion, ...fields } = document;
    return plainValue(fields, fail) as Record<string, unknown>;
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
    const run = <R>(
      operation: keyof typeof documentStoreOperations,
      opts: OperationOptions | undefined,
      fn: (ctx: OperationContext) => Promise<R>,
    ): Promise<R> => ensureIndexes(name, opts).then(() => guard.run(operation, opts, fn));
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
            _id: id === undefined ? randomUUID() : checkId(id, fail),
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
    if (bodyId !== undefined && bodyId !== id) throw fail('the document _id differs from the id given');
    return documentBody(document, fail);
  };

  const store: DocumentStore = {
    id: guard.id,
    collection<T extends object>(
      name: string,
      collectionOptions: DocumentCollectionOptions = {},
    ): Collection<T> {
      const fail = failFor('collection');
      if (typeof name !== 'string' || !collectionName.test(name) || name.startsWith('system.'))
        throw fail('a collection name must be 1 to 120 letters, digits, _ . - and not start with system.');
      const declared: unknown = collectionOptions.uniqueIndexes ?? [];
      if (!Array.isArray(declared)) throw fail('uniqueIndexes must be an array of field paths');
      const unique: string[] = [];
      for (const path of declared as unknown[]) {
        if (typeof path !== 'string') throw fail('uniqueIndexes must be an array of field paths');
        unique.push(checkPath(path, fail, 'unique index path'));
        if (path === '_id' || path === '_version') throw fail(`${path} cannot take a unique index`);
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
    health(signal?: AbortSignal): Promise<HealthResult> {
      return guard.health((probeSignal) => adapter.probe(probeSignal), signal);
    },
    close(): Promise<void> {
      return guard.close(() => adapter.close());
    },
    [Symbol.asyncDispose](): Promise<void> {
      return store.close();
    },
  };
  return store;
}

function checkFindOptions(opts: DocumentFindOptions | undefined, fail: Fail): DocumentAdapterFindOptions {
  const sort: Record<string, DocumentSortDirection> = {};
  if (opts?.sort !== undefined) {
    if (!isPlainObject(opts.sort)) throw fail('sort must be an object of field paths to 1 or -1');
    for (const [path, direction] of Object.entries(opts.sort)) {
      checkPath(path, fail, 'sort path');
      if (direction !== 1 && direction !== -1) throw fail('sort directions must be 1 or -1');
      sort[path] = direction;
    }
  }
  // Without a total order, backends may return ties in any order; `_id` makes pages stable.
  if (!('_id' in sort)) sort['_id'] = 1;
  const limit = opts?.limit;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1))
    throw fail('limit must be a positive integer');
  const skip = opts?.skip;
  if (skip !== undefined && (!Number.isSafeInteger(skip) || skip < 0))
    throw fail('skip must be a non-negative integer');
  return { sort, limit, skip };
}

function checkPatch(patch: unknown, fail: Fail): { set: Record<string, unknown>; unset: string[] } {
  if (!isPlainObject(patch)) throw fail('a patch must be a plain object of field paths to values');
  const paths = Object.keys(patch);
  if (paths.length === 0) throw fail('a patch must change at least one field');
  const set: Record<string, unknown> = {};
  const unset: string[] = [];
  for (const path of paths) {
    checkPath(path, fail, 'patch path');
    if (metaFields.has(path.split('.', 1)[0] ?? '')) throw fail('_id and _version are managed by the store');
    // MongoDB refuses a patch that touches a path and its parent at once.
    if (paths.some((other) => other.startsWith(`${path}.`)))
      throw fail('a patch may not set a path and its parent');
    const value = patch[path];
    if (value === undefined) unset.push(path);
    else set[path] = plainValue(value, fail);
  }
  return { set, unset };
}
