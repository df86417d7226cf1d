import type {
  Component,
  HealthResult,
  OperationContext,
  OperationOptions,
  OperationSpecs,
  PortDefinition,
} from './component.ts';
import type { ErrorClassification } from './errors.ts';

/** The fields the store manages on every document. */
export interface DocumentMeta {
  /** A string id, assigned (a UUID) when an inserted document has none. */
  _id: string;
  /** 1 on insert, incremented by every update. */
  _version: number;
}

/** A document as stored and read back. */
export type StoredDocument<T extends object = Record<string, unknown>> = T & DocumentMeta;

/** A document to insert: `_id` optional, `_version` ignored. */
export type NewDocument<T extends object> = T & { _id?: string; _version?: number };

/**
 * The portable filter: field paths (dotted for nested fields) mapped to a plain value
 * (equality) or to operators `$eq $ne $gt $gte $lt $lte $in $nin $exists`; `$and`/`$or` combine
 * filters. Anything else is rejected with `validation` before any I/O. An operand is never read
 * as an operator: put untrusted input under `$eq` (`{ name: { $eq: input } }`).
 */
export type DocumentFilter = Readonly<Record<string, unknown>>;

export type DocumentSortDirection = 1 | -1;

export interface DocumentFindOptions extends OperationOptions {
  /** Field paths in order of precedence; ties are broken by `_id` ascending. A path through an array sorts differently per backend. */
  sort?: Readonly<Record<string, DocumentSortDirection>>;
  limit?: number;
  skip?: number;
}

export interface DocumentWriteOptions extends OperationOptions {
  /** Fails with `conflict` unless the stored document has this version. */
  expectedVersion?: number;
}

/**
 * A shallow or dotted patch, like MongoDB's `$set`: `{ 'address.city': 'Oslo' }` sets one
 * nested field; a value of `undefined` removes the field.
 */
export type DocumentPatch = Readonly<Record<string, unknown>>;

export interface Collection<T extends object = Record<string, unknown>> {
  readonly name: string;
  /** Resolves the stored document; a duplicate `_id` or unique index value is `conflict`. */
  insert(document: NewDocument<T>, options?: OperationOptions): Promise<StoredDocument<T>>;
  /** Resolves undefined when no document has this id. */
  get(id: string, options?: OperationOptions): Promise<StoredDocument<T> | undefined>;
  find(filter?: DocumentFilter, options?: DocumentFindOptions): Promise<StoredDocument<T>[]>;
  count(filter?: DocumentFilter, options?: OperationOptions): Promise<number>;
  /** Applies a patch; `not_found` when absent, `conflict` when `expectedVersion` is stale. */
  update(id: string, patch: DocumentPatch, options?: DocumentWriteOptions): Promise<StoredDocument<T>>;
  /** Replaces the whole document (keeping its id); errors as `update`. */
  replace(id: string, document: T, options?: DocumentWriteOptions): Promise<StoredDocument<T>>;
  /**
   * Replaces the document with this id, or inserts it when absent. With `expectedVersion`, it
   * must exist at that version (`conflict` otherwise, also when absent).
   */
  upsert(id: string, document: T, options?: DocumentWriteOptions): Promise<StoredDocument<T>>;
  /** Resolves true when a document was deleted; `conflict` when `expectedVersion` is stale. */
  delete(id: string, options?: DocumentWriteOptions): Promise<boolean>;
}

export interface DocumentCollectionOptions {
  /** Field paths with a unique index each; created on `start()` or on the collection's first use. */
  uniqueIndexes?: readonly string[];
}

/** Typed collections of JSON-like documents with optimistic concurrency. */
export interface DocumentStore extends Component {
  collection<T extends object = Record<string, unknown>>(
    name: string,
    options?: DocumentCollectionOptions,
  ): Collection<T>;
  /** Creates the unique indexes of every collection declared so far. */
  start(options?: OperationOptions): Promise<void>;
}

export type DocumentStoreOperation =
  'createIndexes' | 'insert' | 'get' | 'find' | 'count' | 'update' | 'replace' | 'upsert' | 'delete';

export const documentStoreOperations: OperationSpecs<DocumentStoreOperation> = {
  createIndexes: { idempotent: true },
  // A retried insert whose first attempt landed would report a false conflict.
  insert: { idempotent: false },
  get: { idempotent: true },
  find: { idempotent: true },
  count: { idempotent: true },
  // Each update bumps the version, so a repeat is a second update (or a false conflict).
  update: { idempotent: false },
  replace: { idempotent: false },
  upsert: { idempotent: false },
  // A repeat could turn a lost success into `false` or a false conflict.
  delete: { idempotent: false },
};

export const documentStorePort: PortDefinition<DocumentStoreOperation> = {
  key: 'documents',
  name: 'document-store',
  idPrefix: 'documents',
  envPrefix: 'DOCUMENT_STORE',
  critical: true,
  inMemoryDriver: 'memory',
  operations: documentStoreOperations,
};

/** Options of a backend find: validated, with the `_id` tie-breaker already in `sort`. */
export interface DocumentAdapterFindOptions {
  sort: Readonly<Record<string, DocumentSortDirection>>;
  limit: number | undefined;
  skip: number | undefined;
}

/** A raw document as the backend holds it: plain JSON-like values with `_id` and `_version`. */
export type RawDocument = Record<string, unknown> & DocumentMeta;

/**
 * What a document-store backend implements. berth builds the `DocumentStore` port around it
 * once (validation before I/O, version bookkeeping, upsert, guard). Filters reaching it are
 * validated and use only the portable subset, which is MongoDB query syntax.
 */
export interface DocumentStoreAdapter {
  /** The backend, as OpenTelemetry's `db.system.name`, e.g. `mongodb`. */
  readonly system: string;
  createUniqueIndexes(collection: string, paths: readonly string[], ctx: OperationContext): Promise<void>;
  /** Throws (classified as `conflict`) on a duplicate id or unique value. */
  insert(collection: string, document: RawDocument, ctx: OperationContext): Promise<void>;
  get(collection: string, id: string, ctx: OperationContext): Promise<RawDocument | undefined>;
  find(
    collection: string,
    filter: DocumentFilter,
    options: DocumentAdapterFindOptions,
    ctx: OperationContext,
  ): Promise<RawDocument[]>;
  count(collection: string, filter: DocumentFilter, ctx: OperationContext): Promise<number>;
  /**
   * Sets and unsets dotted paths and increments `_version`, atomically; only when the version
   * matches `expectedVersion` if given. Resolves the document after, or undefined on no match.
   */
  patch(
    collection: string,
    id: string,
    set: Readonly<Record<string, unknown>>,
    unset: readonly string[],
    expectedVersion: number | undefined,
    ctx: OperationContext,
  ): Promise<RawDocument | undefined>;
  /** Replaces the document whose version is `expectedVersion`; resolves false on no match. */
  replace(
    collection: string,
    document: RawDocument,
    expectedVersion: number,
    ctx: OperationContext,
  ): Promise<boolean>;
  /** Resolves the number of documents deleted (0 or 1). */
  delete(
    collection: string,
    id: string,
    expectedVersion: number | undefined,
    ctx: OperationContext,
  ): Promise<number>;
  /** A dedicated, bounded check of the backend. */
  probe(signal: AbortSignal): Promise<HealthResult>;
  classifyError(error: unknown): ErrorClassification;
  close(): Promise<void>;
}
