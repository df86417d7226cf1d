import { randomUUID } from 'node:crypto';
import type { OperationContext, OperationOptions } from '../../ports/component.ts';
import type {
  Collection,
  DocumentFilter,
  DocumentFindOptions,
  DocumentPatch,
  DocumentStoreAdapter,
  DocumentStoreOperation,
  DocumentWriteOptions,
  NewDocument,
  RawDocument,
  StoredDocument,
} from '../../ports/document-store.ts';
import type { Guard } from '../guard/guard.ts';
import { rejecting } from '../guard/rejecting.ts';
import type { CallSpan } from '../telemetry/tracing.ts';
import { spanAttributes } from '../telemetry/semconv.ts';
import { checkId, checkReplacement, checkVersion, documentBody } from './document-checks.ts';
import type { UniqueIndexes } from './unique-indexes.ts';
import { checkDocumentFilter, checkFindOptions, checkPatch, type Fail } from './validation.ts';
import type { VersionedWrites } from './versioned-writes.ts';

/** What the collections of one store share. */
export interface CollectionContext {
  readonly guard: Guard<DocumentStoreOperation>;
  readonly adapter: DocumentStoreAdapter;
  readonly indexes: UniqueIndexes;
  readonly writes: VersionedWrites;
}

const stored = <T extends object>(raw: RawDocument): StoredDocument<T> => raw as unknown as StoredDocument<T>;

/** One collection: each operation checked before any I/O, after its unique indexes exist, through the guard. */
export class GuardedCollection<T extends object> implements Collection<T> {
  readonly name: string;
  readonly #context: CollectionContext;
  // Spans say `<operation> <collection>`, as the conventions name them.
  readonly #span: CallSpan<unknown>;

  constructor(name: string, context: CollectionContext) {
    this.name = name;
    this.#context = context;
    this.#span = { target: name, attributes: { [spanAttributes.dbCollectionName]: name } };
  }

  readonly insert = (document: NewDocument<T>, opts?: OperationOptions): Promise<StoredDocument<T>> =>
    rejecting(() => {
      const fail = this.#failFor('insert');
      const id = (document as { _id?: unknown } | null)?._id;
      const raw: RawDocument = {
        ...documentBody(document, fail),
        _id: id === undefined ? randomUUID() : checkId(id, fail, 'document._id'),
        _version: 1,
      };
      return this.#run('insert', opts, async (ctx) => {
        await this.#context.adapter.insert(this.name, raw, ctx);
        return stored<T>(raw);
      });
    });

  readonly get = (id: string, opts?: OperationOptions): Promise<StoredDocument<T> | undefined> =>
    rejecting(() => {
      checkId(id, this.#failFor('get'));
      return this.#run('get', opts, async (ctx) => {
        const raw = await this.#context.adapter.get(this.name, id, ctx);
        return raw === undefined ? undefined : stored<T>(raw);
      });
    });

  readonly find = (filter?: DocumentFilter, opts?: DocumentFindOptions): Promise<StoredDocument<T>[]> =>
    rejecting(() => {
      const fail = this.#failFor('find');
      const checked = checkDocumentFilter(filter, fail);
      const findOptions = checkFindOptions(opts, fail);
      return this.#run('find', opts, async (ctx) =>
        (await this.#context.adapter.find(this.name, checked, findOptions, ctx)).map((raw) => stored<T>(raw)),
      );
    });

  readonly count = (filter?: DocumentFilter, opts?: OperationOptions): Promise<number> =>
    rejecting(() => {
      const checked = checkDocumentFilter(filter, this.#failFor('count'));
      return this.#run('count', opts, (ctx) => this.#context.adapter.count(this.name, checked, ctx));
    });

  readonly update = (
    id: string,
    patch: DocumentPatch,
    opts?: DocumentWriteOptions,
  ): Promise<StoredDocument<T>> =>
    rejecting(() => {
      const fail = this.#failFor('update');
      checkId(id, fail);
      const expected = checkVersion(opts?.expectedVersion, fail);
      const { set, unset } = checkPatch(patch, fail);
      return this.#run('update', opts, async (ctx) => {
        const raw = await this.#context.adapter.patch(this.name, id, set, unset, expected, ctx);
        if (raw !== undefined) return stored<T>(raw);
        if (expected === undefined)
          throw this.#context.guard.error('not_found', 'update', 'no document with this id');
        return this.#context.writes.conflictOrNotFound(this.name, id, 'update', ctx);
      });
    });

  readonly replace = (id: string, document: T, opts?: DocumentWriteOptions): Promise<StoredDocument<T>> =>
    this.#replacement('replace', id, document, opts);

  readonly upsert = (id: string, document: T, opts?: DocumentWriteOptions): Promise<StoredDocument<T>> =>
    this.#replacement('upsert', id, document, opts);

  readonly delete = (id: string, opts?: DocumentWriteOptions): Promise<boolean> =>
    rejecting(() => {
      const fail = this.#failFor('delete');
      checkId(id, fail);
      const expected = checkVersion(opts?.expectedVersion, fail);
      const { adapter, writes } = this.#context;
      return this.#run('delete', opts, async (ctx) => {
        if ((await adapter.delete(this.name, id, expected, ctx)) > 0) return true;
        if (expected !== undefined && (await adapter.get(this.name, id, ctx)) !== undefined)
          return writes.conflictOrNotFound(this.name, id, 'delete', ctx);
        return false;
      });
    });

  #replacement(
    operation: 'replace' | 'upsert',
    id: string,
    document: T,
    opts: DocumentWriteOptions | undefined,
  ): Promise<StoredDocument<T>> {
    return rejecting(() => {
      const fail = this.#failFor(operation);
      const body = checkReplacement(id, document, fail);
      const expected = checkVersion(opts?.expectedVersion, fail);
      const write = { collection: this.name, id, body, expected, operation };
      return this.#run(operation, opts, async (ctx) =>
        stored<T>(await this.#context.writes.replace(write, ctx)),
      );
    });
  }

  #run<R>(
    operation: DocumentStoreOperation,
    opts: OperationOptions | undefined,
    fn: (ctx: OperationContext) => Promise<R>,
  ): Promise<R> {
    const { guard, indexes } = this.#context;
    return indexes
      .ensure(this.name, opts)
      .then(() => guard.run(operation, opts, fn, undefined, undefined, this.#span as CallSpan<R>));
  }

  #failFor(operation: string): Fail {
    return (path, message) => this.#context.guard.invalid(operation, path, message);
  }
}
