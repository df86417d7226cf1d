import type { OperationContext } from '../../ports/component.ts';
import type {
  DocumentStoreAdapter,
  DocumentStoreOperation,
  RawDocument,
} from '../../ports/document-store.ts';
import { isInfraError } from '../../ports/errors.ts';
import type { Guard } from '../guard/guard.ts';

// Bounds the read-then-write loops of replace and upsert without an expected version.
const maxWriteAttempts = 20;

/** A replacement of one document: `upsert` inserts it when absent, `replace` does not. */
export interface Replacement {
  collection: string;
  id: string;
  body: Record<string, unknown>;
  expected: number | undefined;
  operation: 'replace' | 'upsert';
}

/** Writes that compare versions: not_found vs conflict, and replace/upsert as read-then-write loops. */
export class VersionedWrites {
  readonly #guard: Guard<DocumentStoreOperation>;
  readonly #adapter: DocumentStoreAdapter;

  constructor(guard: Guard<DocumentStoreOperation>, adapter: DocumentStoreAdapter) {
    this.#guard = guard;
    this.#adapter = adapter;
  }

  /** After a write that matched nothing: not_found, or conflict with the version it is at. */
  async conflictOrNotFound(
    collection: string,
    id: string,
    operation: string,
    ctx: OperationContext,
  ): Promise<never> {
    const current = await this.#adapter.get(collection, id, ctx);
    if (current === undefined) throw this.#guard.error('not_found', operation, 'no document with this id');
    throw this.#stale(operation, current._version);
  }

  async replace(write: Replacement, ctx: OperationContext): Promise<RawDocument> {
    const { collection, id, body, expected, operation } = write;
    const adapter = this.#adapter;
    for (let attempt = 0; attempt < maxWriteAttempts; attempt++) {
      const current = await adapter.get(collection, id, ctx);
      if (current === undefined) {
        const inserted = await this.#insertAbsent(write, ctx);
        if (inserted !== undefined) return inserted;
        continue;
      }
      if (expected !== undefined && current._version !== expected)
        throw this.#stale(operation, current._version);
      const document: RawDocument = { ...body, _id: id, _version: current._version + 1 };
      if (await adapter.replace(collection, document, current._version, ctx)) return document;
      if (expected !== undefined) return this.conflictOrNotFound(collection, id, operation, ctx);
    }
    throw this.#guard.error(
      'conflict',
      operation,
      `document kept changing over ${maxWriteAttempts} attempts`,
      {
        retryable: false,
      },
    );
  }

  // Undefined when someone inserted it meanwhile: the loop replaces theirs.
  async #insertAbsent(write: Replacement, ctx: OperationContext): Promise<RawDocument | undefined> {
    const { collection, id, body, expected, operation } = write;
    if (operation === 'replace') throw this.#guard.error('not_found', operation, 'no document with this id');
    // An upsert that expects a version expects the document to exist.
    if (expected !== undefined)
      throw this.#guard.error('conflict', operation, 'stale expectedVersion: no document with this id', {
        retryable: false,
      });
    const document: RawDocument = { ...body, _id: id, _version: 1 };
    try {
      await this.#adapter.insert(collection, document, ctx);
      return document;
    } catch (error) {
      // Otherwise a unique index refused it.
      if (!this.#isConflict(error) || (await this.#adapter.get(collection, id, ctx)) === undefined)
        throw error;
      return undefined;
    }
  }

  #isConflict(error: unknown): boolean {
    return isInfraError(error)
      ? error.reason === 'conflict'
      : this.#adapter.classifyError(error).reason === 'conflict';
  }

  #stale(operation: string, version: number): Error {
    return this.#guard.error(
      'conflict',
      operation,
      `stale expectedVersion: the document is at version ${version}`,
      {
        retryable: false,
      },
    );
  }
}
