import type { DocumentCollectionOptions } from '../../ports/document-store.ts';
import { checkPath, isPlainObject, plainValue, type Fail } from './validation.ts';

// Checks of the arguments every collection operation shares, before any I/O.

const collectionName = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,119}$/;
const maxIdLength = 512;

export function checkId(id: unknown, fail: Fail, at = 'id'): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > maxIdLength || id.includes('\0'))
    throw fail(at, `must be a string of 1 to ${maxIdLength} characters`);
  return id;
}

export function checkVersion(version: unknown, fail: Fail): number | undefined {
  if (version === undefined) return undefined;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1)
    throw fail('expectedVersion', 'must be a positive integer');
  return version;
}

/** A document's fields without `_id` and `_version`, which the store keeps. */
export function documentBody(document: unknown, fail: Fail): Record<string, unknown> {
  if (!isPlainObject(document)) throw fail('document', 'must be a plain object');
  const { _id: _ignoredId, _version: _ignoredVersion, ...fields } = document;
  return plainValue(fields, 'document', fail) as Record<string, unknown>;
}

/** The body of a replacement for `id`: a document `_id` must be that id. */
export function checkReplacement(id: unknown, document: unknown, fail: Fail): Record<string, unknown> {
  checkId(id, fail);
  const bodyId = (document as { _id?: unknown } | null)?._id;
  if (bodyId !== undefined && bodyId !== id) throw fail('document._id', 'differs from the id given');
  return documentBody(document, fail);
}

/** A collection's name and its unique index paths. */
export function checkCollection(
  name: unknown,
  options: DocumentCollectionOptions,
  fail: Fail,
): { name: string; unique: string[] } {
  if (typeof name !== 'string' || !collectionName.test(name) || name.startsWith('system.'))
    throw fail('name', 'must be 1 to 120 letters, digits, _ . - and not start with system.');
  const declared: unknown = options.uniqueIndexes ?? [];
  if (!Array.isArray(declared)) throw fail('uniqueIndexes', 'must be an array of field paths');
  const unique: string[] = [];
  for (const path of declared as unknown[]) {
    if (typeof path !== 'string') throw fail('uniqueIndexes', 'must be an array of field paths');
    unique.push(checkPath(path, 'uniqueIndexes', fail));
    if (path === '_id' || path === '_version')
      throw fail('uniqueIndexes', `${path} cannot take a unique index`);
  }
  return { name, unique };
}
