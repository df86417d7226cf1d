import type { HealthResult, OperationOptions } from '../../ports/component.ts';
import {
  documentStorePort,
  type Collection,
  type DocumentCollectionOptions,
  type DocumentStore,
  type DocumentStoreAdapter,
  type DocumentStoreOperation,
} from '../../ports/document-store.ts';
import { Guard, type GuardedOptions, type GuardedPort } from '../guard/guard.ts';
import { GuardedComponent } from '../guard/guarded-component.ts';
import type { Runtime } from '../runtime.ts';
import { dbClientOperationDuration } from '../telemetry/semconv.ts';
import { checkCollection } from './document-checks.ts';
import { GuardedCollection, type CollectionContext } from './guarded-collection.ts';
import { UniqueIndexes } from './unique-indexes.ts';
import { VersionedWrites } from './versioned-writes.ts';

export type GuardedDocumentStoreOptions = GuardedOptions;

const documentsPort: GuardedPort<DocumentStoreOperation> = {
  port: documentStorePort.name,
  idPrefix: documentStorePort.idPrefix,
  operations: documentStorePort.operations,
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
  return new GuardedDocumentStore(Guard.forAdapter(documentsPort, adapter, options, runtime), adapter);
}

class GuardedDocumentStore extends GuardedComponent<DocumentStoreOperation> implements DocumentStore {
  readonly #guard: Guard<DocumentStoreOperation>;
  readonly #adapter: DocumentStoreAdapter;
  readonly #context: CollectionContext;

  constructor(guard: Guard<DocumentStoreOperation>, adapter: DocumentStoreAdapter) {
    super(guard);
    this.#guard = guard;
    this.#adapter = adapter;
    this.#context = {
      guard,
      adapter,
      indexes: new UniqueIndexes(guard, adapter),
      writes: new VersionedWrites(guard, adapter),
    };
  }

  readonly collection = <T extends object>(
    name: string,
    collectionOptions: DocumentCollectionOptions = {},
  ): Collection<T> => {
    const checked = checkCollection(name, collectionOptions, (path, message) =>
      this.#guard.invalid('collection', path, message),
    );
    this.#context.indexes.declare(checked.name, checked.unique);
    return new GuardedCollection<T>(checked.name, this.#context);
  };

  readonly start = (opts?: OperationOptions): Promise<void> => this.#context.indexes.ensureAll(opts);

  protected override probe(signal: AbortSignal): Promise<HealthResult> {
    return this.#adapter.probe(signal);
  }

  protected override closeAdapter(): Promise<void> {
    return this.#adapter.close();
  }
}
