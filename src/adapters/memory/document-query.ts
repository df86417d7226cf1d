import type { DocumentFilter, DocumentSortDirection, RawDocument } from '../../ports/document-store.ts';

// MongoDB's semantics for the portable filter subset, the sort and the dotted patch, over the
// values the guard lets through (strings, finite numbers, booleans, null, dates, arrays, plain
// objects). Written here, not taken from a query engine, so `berth/memory` loads no dependency.

type Doc = Readonly<Record<string, unknown>>;
type Condition = Readonly<Record<string, unknown>>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);

/**
 * What a dotted path reaches, as MongoDB reads it: an array met on the way is entered (each
 * element walked on, or the element a numeric segment names); a missing field is `undefined`.
 */
function valuesAt(value: unknown, segments: readonly string[], from = 0): unknown[] {
  if (from === segments.length) return [value];
  const segment = segments[from] as string;
  if (Array.isArray(value)) {
    const found: unknown[] = [];
    if (/^\d+$/.test(segment)) found.push(...valuesAt(value[Number(segment)], segments, from + 1));
    for (const item of value) if (isObject(item)) found.push(...valuesAt(item, segments, from));
    return found.length > 0 ? found : [undefined];
  }
  if (!isObject(value)) return [undefined];
  return valuesAt(value[segment], segments, from + 1);
}

/** The values a condition is tested against: each reached value, and an array's elements too. */
function candidates(reached: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const value of reached) {
    out.push(value);
    if (Array.isArray(value)) out.push(...(value as unknown[]));
  }
  return out;
}

// BSON's order of types, for sorting and for comparing within one type only.
function typeRank(value: unknown): number {
  if (value === undefined || value === null) return 1;
  if (typeof value === 'number') return 2;
  if (typeof value === 'string') return 3;
  if (Array.isArray(value)) return 5;
  if (typeof value === 'boolean') return 8;
  if (value instanceof Date) return 9;
  return 4;
}

function compareValues(a: unknown, b: unknown): number {
  const rankA = typeRank(a);
  const rankB = typeRank(b);
  if (rankA !== rankB) return rankA - rankB;
  switch (rankA) {
    case 1:
      return 0;
    case 2:
    case 3:
      return (a as number | string) < (b as number | string)
        ? -1
        : (a as number | string) > (b as number | string)
          ? 1
          : 0;
    case 8:
      return Number(a) - Number(b);
    case 9:
      return (a as Date).getTime() - (b as Date).getTime();
    case 5: {
      const left = a as unknown[];
      const right = b as unknown[];
      for (let i = 0; i < Math.min(left.length, right.length); i++) {
        const order = compareValues(left[i], right[i]);
        if (order !== 0) return order;
      }
      return left.length - right.length;
    }
    default: {
      // Embedded documents: field by field, in their order, name before value.
      const left = Object.entries(a as Doc);
      const right = Object.entries(b as Doc);
      for (let i = 0; i < Math.min(left.length, right.length); i++) {
        const [keyA, valueA] = left[i] as [string, unknown];
        const [keyB, valueB] = right[i] as [string, unknown];
        const order = keyA < keyB ? -1 : keyA > keyB ? 1 : compareValues(valueA, valueB);
        if (order !== 0) return order;
      }
      return left.length - right.length;
    }
  }
}

// `null` matches null and a missing field, as in MongoDB.
const equals = (value: unknown, operand: unknown): boolean =>
  operand === null
    ? value === null || value === undefined
    : value !== undefined && compareValues(value, operand) === 0;

function inRange(value: unknown, operator: string, operand: unknown): boolean {
  if (operand === null) return (operator === '$gte' || operator === '$lte') && equals(value, null);
  if (value === undefined || typeRank(value) !== typeRank(operand)) return false;
  const order = compareValues(value, operand);
  if (operator === '$gt') return order > 0;
  if (operator === '$gte') return order >= 0;
  if (operator === '$lt') return order < 0;
  return order <= 0;
}

const isOperatorCondition = (condition: unknown): condition is Condition =>
  isObject(condition) && Object.keys(condition).some((key) => key.startsWith('$'));

function anyEquals(values: readonly unknown[], operand: unknown): boolean {
  return values.some((value) => equals(value, operand));
}

function matchesCondition(reached: readonly unknown[], condition: unknown): boolean {
  const values = candidates(reached);
  if (!isOperatorCondition(condition)) return anyEquals(values, condition);
  for (const [operator, operand] of Object.entries(condition)) {
    let ok: boolean;
    switch (operator) {
      case '$eq':
        ok = anyEquals(values, operand);
        break;
      case '$ne':
        ok = !anyEquals(values, operand);
        break;
      case '$in':
        ok = (operand as unknown[]).some((item) => anyEquals(values, item));
        break;
      case '$nin':
        ok = !(operand as unknown[]).some((item) => anyEquals(values, item));
        break;
      case '$exists':
        ok = reached.some((value) => value !== undefined) === operand;
        break;
      default:
        ok = values.some((value) => inRange(value, operator, operand));
    }
    if (!ok) return false;
  }
  return true;
}

/** Whether a document matches a filter the guard has already checked against the portable subset. */
export function matchesFilter(document: Doc, filter: DocumentFilter): boolean {
  for (const [key, condition] of Object.entries(filter)) {
    if (key === '$and') {
      if (!(condition as DocumentFilter[]).every((part) => matchesFilter(document, part))) return false;
    } else if (key === '$or') {
      if (!(condition as DocumentFilter[]).some((part) => matchesFilter(document, part))) return false;
    } else if (!matchesCondition(valuesAt(document, key.split('.')), condition)) {
      return false;
    }
  }
  return true;
}

// An array sorts by its smallest element ascending and its largest descending, as in MongoDB.
function sortKey(document: Doc, path: string, direction: DocumentSortDirection): unknown {
  const values = candidates(valuesAt(document, path.split('.'))).filter((value) => !Array.isArray(value));
  if (values.length === 0) return undefined;
  return values.reduce((best, value) => (compareValues(value, best) * direction < 0 ? value : best));
}

/** Orders documents by the sort spec (every key in precedence order). */
export function sortDocuments<T extends Doc>(
  documents: readonly T[],
  sort: Readonly<Record<string, DocumentSortDirection>>,
): T[] {
  const keys = Object.entries(sort);
  const keyed = documents.map((document) => ({
    document,
    values: keys.map(([path, direction]) => sortKey(document, path, direction)),
  }));
  keyed.sort((a, b) => {
    for (let i = 0; i < keys.length; i++) {
      const order = compareValues(a.values[i], b.values[i]) * (keys[i] as [string, DocumentSortDirection])[1];
      if (order !== 0) return order;
    }
    return 0;
  });
  return keyed.map((entry) => entry.document);
}

type Container = Record<string, unknown> | unknown[];
const isContainer = (value: unknown): value is Container => isObject(value) || Array.isArray(value);

function setIn(container: Container, segment: string, value: unknown): void {
  if (Array.isArray(container)) {
    const index = Number(segment);
    // MongoDB pads an array with nulls up to the index it sets.
    while (container.length < index) container.push(null);
    container[index] = value;
  } else {
    container[segment] = value;
  }
}

/** Applies a checked dotted patch in place: `set` creates missing parents, `unset` removes a leaf. */
export function applyPatch(
  document: RawDocument,
  set: Readonly<Record<string, unknown>>,
  unset: readonly string[],
): void {
  for (const [path, value] of Object.entries(set)) {
    const segments = path.split('.');
    let target: Container = document;
    for (const segment of segments.slice(0, -1)) {
      const next = (target as Record<string, unknown>)[segment];
      if (!isContainer(next)) setIn(target, segment, {});
      target = (target as Record<string, unknown>)[segment] as Container;
    }
    setIn(target, segments.at(-1) as string, value);
  }
  for (const path of unset) {
    const segments = path.split('.');
    let target: unknown = document;
    for (const segment of segments.slice(0, -1))
      target = isContainer(target) ? (target as Record<string, unknown>)[segment] : undefined;
    const leaf = segments.at(-1) as string;
    // $unset of an array element leaves a null in its place, as MongoDB does.
    if (Array.isArray(target)) {
      if (Number(leaf) < target.length) target[Number(leaf)] = null;
    } else if (isObject(target)) {
      delete target[leaf];
    }
  }
}
