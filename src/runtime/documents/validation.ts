import type {
  DocumentAdapterFindOptions,
  DocumentFindOptions,
  DocumentSortDirection,
} from '../../ports/document-store.ts';
import type { InfraError } from '../../ports/errors.ts';

// Checks of DocumentStore input, before any I/O: hand-written, as they run on every call.
// Each error names the argument at fault (`filter`, `document`, `patch`…), as `Guard.invalid` does.

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
const maxPathLength = 1024;
// MongoDB refuses documents nested deeper than 100 levels; stay well inside it.
const maxDepth = 64;
const metaFields: ReadonlySet<string> = new Set(['_id', '_version']);

/** A `validation` error about the argument at `path`. */
export type Fail = (path: string, message: string) => InfraError;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A field path given in the argument at `at`, e.g. a sort key. */
export function checkPath(path: string, at: string, fail: Fail, what = 'field paths'): string {
  if (path.length === 0 || path.length > maxPathLength)
    throw fail(at, `${what} must have 1 to ${maxPathLength} characters`);
  for (const segment of path.split('.')) {
    if (segment.length === 0) throw fail(at, `${what} may not have an empty segment`);
    if (segment.startsWith('$')) throw fail(at, `${what} may not have a segment starting with $`);
    if (segment.includes('\0')) throw fail(at, `${what} may not contain NUL`);
  }
  return path;
}

/**
 * A copy of a plain JSON-like value (plus `Date`): object keys may not start with `$` or hold a
 * dot, so a value can never be read as an operator. Undefined properties are dropped, as JSON does.
 */
export function plainValue(value: unknown, at: string, fail: Fail, depth = 0): unknown {
  if (depth > maxDepth) throw fail(at, `values may nest at most ${maxDepth} levels`);
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw fail(at, 'numbers must be finite');
      return value;
    case 'object': {
      if (value === null) return null;
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) throw fail(at, 'dates must be valid');
        return new Date(value.getTime());
      }
      if (Array.isArray(value)) {
        return value.map((item: unknown) => {
          if (item === undefined) throw fail(at, 'arrays may not hold undefined');
          return plainValue(item, at, fail, depth + 1);
        });
      }
      if (!isPlainObject(value))
        throw fail(at, 'values must be plain objects, arrays, strings, numbers, booleans, null or dates');
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        if (key.startsWith('$')) throw fail(at, 'object keys may not start with $ (operator injection?)');
        if (key.includes('.') || key.includes('\0') || key.length === 0)
          throw fail(at, 'object keys must be non-empty, without dots or NUL');
        if (item !== undefined) out[key] = plainValue(item, at, fail, depth + 1);
      }
      return out;
    }
    default:
      throw fail(at, `a value of type ${typeof value} cannot be stored or compared`);
  }
}

function checkCondition(value: unknown, at: string, fail: Fail, depth: number): unknown {
  if (!isPlainObject(value)) return plainValue(value, at, fail, depth);
  const keys = Object.keys(value);
  const operators = keys.filter((key) => key.startsWith('$'));
  if (operators.length === 0) return plainValue(value, at, fail, depth);
  if (operators.length !== keys.length) throw fail(at, 'a condition may not mix operators and fields');
  const out: Record<string, unknown> = {};
  for (const operator of operators) {
    const operand = value[operator];
    if (forbiddenOperators.has(operator)) throw fail(at, `${operator} is not allowed`);
    if (!comparisonOperators.has(operator)) throw fail(at, `unknown operator ${operator}`);
    if (operator === '$exists') {
      if (typeof operand !== 'boolean') throw fail(at, '$exists takes true or false');
      out[operator] = operand;
    } else if (operator === '$in' || operator === '$nin') {
      if (!Array.isArray(operand)) throw fail(at, `${operator} takes an array`);
      out[operator] = plainValue(operand, at, fail, depth + 1);
    } else {
      if (operand === undefined) throw fail(at, `${operator} needs a value`);
      out[operator] = plainValue(operand, at, fail, depth + 1);
    }
  }
  return out;
}

/** Checks a filter against the portable subset and returns a copy of it. */
export function checkDocumentFilter(filter: unknown, fail: Fail, depth = 0): Record<string, unknown> {
  if (filter === undefined && depth === 0) return {};
  if (depth > maxDepth) throw fail('filter', `may nest at most ${maxDepth} levels`);
  if (!isPlainObject(filter)) throw fail('filter', 'must be a plain object');
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(filter)) {
    if (value === undefined) throw fail('filter', 'may not hold undefined');
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0)
        throw fail('filter', `${key} takes a non-empty array of filters`);
      out[key] = value.map((item: unknown) => checkDocumentFilter(item, fail, depth + 1));
    } else if (forbiddenOperators.has(key)) {
      throw fail('filter', `${key} is not allowed`);
    } else if (key.startsWith('$')) {
      throw fail('filter', `unknown operator ${key}`);
    } else {
      out[checkPath(key, 'filter', fail)] = checkCondition(value, 'filter', fail, depth + 1);
    }
  }
  return out;
}

export function checkFindOptions(
  opts: DocumentFindOptions | undefined,
  fail: Fail,
): DocumentAdapterFindOptions {
  const sort: Record<string, DocumentSortDirection> = {};
  if (opts?.sort !== undefined) {
    if (!isPlainObject(opts.sort)) throw fail('sort', 'must be an object of field paths to 1 or -1');
    for (const [path, direction] of Object.entries(opts.sort)) {
      checkPath(path, 'sort', fail);
      if (direction !== 1 && direction !== -1) throw fail('sort', 'directions must be 1 or -1');
      sort[path] = direction;
    }
  }
  // Without a total order, backends may return ties in any order; `_id` makes pages stable.
  if (!('_id' in sort)) sort['_id'] = 1;
  const limit = opts?.limit;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1))
    throw fail('limit', 'must be a positive integer');
  const skip = opts?.skip;
  if (skip !== undefined && (!Number.isSafeInteger(skip) || skip < 0))
    throw fail('skip', 'must be a non-negative integer');
  return { sort, limit, skip };
}

export function checkPatch(patch: unknown, fail: Fail): { set: Record<string, unknown>; unset: string[] } {
  if (!isPlainObject(patch)) throw fail('patch', 'must be a plain object of field paths to values');
  const paths = Object.keys(patch);
  if (paths.length === 0) throw fail('patch', 'must change at least one field');
  const set: Record<string, unknown> = {};
  const unset: string[] = [];
  for (const path of paths) {
    checkPath(path, 'patch', fail);
    if (metaFields.has(path.split('.', 1)[0] ?? ''))
      throw fail('patch', '_id and _version are managed by the store');
    // MongoDB refuses a patch that touches a path and its parent at once.
    if (paths.some((other) => other.startsWith(`${path}.`)))
      throw fail('patch', 'may not set a path and its parent');
    const value = patch[path];
    if (value === undefined) unset.push(path);
    else set[path] = plainValue(value, 'patch', fail);
  }
  return { set, unset };
}
