import type { OperationOptions } from '../../ports/component.ts';
import type { DocumentStoreAdapter, DocumentStoreOperation } from '../../ports/document-store.ts';
import type { Guard } from '../guard/guard.ts';

interface RegisteredCollection {
  paths: Set<string>;
  ready: Promise<void> | undefined;
}

/**
 * The unique indexes collections declare, created once before the collection's first
 * operation (or by `start()`); a path declared later has them created again.
 */
export class UniqueIndexes {
  readonly #guard: Guard<DocumentStoreOperation>;
  readonly #adapter: DocumentStoreAdapter;
  readonly #collections = new Map<string, RegisteredCollection>();

  constructor(guard: Guard<DocumentStoreOperation>, adapter: DocumentStoreAdapter) {
    this.#guard = guard;
    this.#adapter = adapter;
  }

  declare(name: string, paths: readonly string[]): void {
    let entry = this.#collections.get(name);
    if (entry === undefined) {
      entry = { paths: new Set(), ready: undefined };
      this.#collections.set(name, entry);
    }
    for (const path of paths) {
      if (!entry.paths.has(path)) {
        entry.paths.add(path);
        entry.ready = undefined;
      }
    }
  }

  ensure(name: string, opts: OperationOptions | undefined): Promise<void> {
    const entry = this.#collections.get(name);
    if (entry === undefined || entry.paths.size === 0) return Promise.resolve();
    if (entry.ready === undefined) {
      const paths = [...entry.paths];
      const ready = this.#guard.run('createIndexes', opts, (ctx) =>
        this.#adapter.createUniqueIndexes(name, paths, ctx),
      );
      entry.ready = ready;
      // A failed creation is tried again by the next operation.
      ready.catch(() => {
        if (entry.ready === ready) entry.ready = undefined;
      });
    }
    return entry.ready;
  }

  async ensureAll(opts: OperationOptions | undefined): Promise<void> {
    await Promise.all([...this.#collections.keys()].map((name) => this.ensure(name, opts)));
  }
}
