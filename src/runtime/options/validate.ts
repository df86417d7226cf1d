import type { z } from 'zod';
import { ConfigError, describeIssues, type ConfigIssue } from '../../ports/errors.ts';

/** An issue as zod and every Standard Schema report it. */
export interface SchemaIssue {
  readonly message: string;
  readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined;
}

/**
 * Schema issues as ConfigIssues, paths under `under` when given (e.g. `value`). Messages are
 * the schema's, built from issue codes, never from the input, so no secret value is echoed.
 */
export function schemaIssues(issues: readonly SchemaIssue[], under?: string): ConfigIssue[] {
  return issues.map((issue) => {
    const path = (issue.path ?? []).map((key) => String(typeof key === 'object' ? key.key : key));
    return { path: (under === undefined ? path : [under, ...path]).join('.'), message: issue.message };
  });
}

/**
 * Parses with a zod schema, issues worded by {@link plainMessage} wherever the schema gives no
 * message of its own (a schema's own message always wins: zod ranks it above a parse's).
 */
export function safeParsePlain<S extends z.ZodType>(
  schema: S,
  input: unknown,
): z.ZodSafeParseResult<z.output<S>> {
  return schema.safeParse(input, { error: plainMessage });
}

/** Parses options with a zod schema; a `ConfigError` lists every bad path at once. */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, subject: string): z.output<S> {
  const result = safeParsePlain(schema, input);
  if (result.success) return result.data;
  throw new ConfigError(subject, schemaIssues(result.error.issues));
}

/**
 * Parses a call's input with a zod schema; `invalid` turns the issues, listed as in a
 * `ConfigError`, into the caller's error (a `validation` InfraError naming the operation).
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  invalid: (message: string) => Error,
): z.output<S> {
  const result = safeParsePlain(schema, input);
  if (result.success) return result.data;
  throw invalid(describeIssues(schemaIssues(result.error.issues)));
}

// What this file reads of a zod schema: its definition, as zod 4 keeps it on every schema.
interface SchemaInternals {
  readonly _zod: {
    readonly def: { readonly type: string } & Readonly<Record<string, unknown>>;
    readonly bag: Readonly<Record<string, unknown>>;
    readonly optin?: 'optional' | 'defaulted' | undefined;
  };
  readonly description?: string | undefined;
}
const internals = (schema: unknown): SchemaInternals | undefined =>
  typeof schema === 'object' && schema !== null && '_zod' in schema ? (schema as SchemaInternals) : undefined;

type RawIssue = z.core.$ZodRawIssue;

/**
 * A zod error map in plain words: what was expected, from the schema alone. The input is read
 * only for its type (`not a string`) and whether it is missing, never echoed: it may be a secret.
 * Object keys the input got wrong are named, as keys are names, not values.
 */
export function plainMessage(issue: RawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return invalidType(issue.expected, issue.input);
    case 'too_small':
      return bound('min', issue.origin, Number(issue.minimum), issue.inclusive !== false, issue.exact, issue);
    case 'too_big':
      return bound('max', issue.origin, Number(issue.maximum), issue.inclusive !== false, issue.exact, issue);
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${literal(issue.values[0])}`
        : `must be one of ${issue.values.map(literal).join(', ')}`;
    case 'invalid_format':
      return invalidFormat(issue);
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    case 'unrecognized_keys':
      return unknownKeys(issue.keys, Object.keys(objectShape(issue.inst) ?? {}));
    case 'invalid_union':
      return invalidUnion(issue);
    case 'invalid_key':
      return `has a key that is not valid: ${issue.issues.map((inner) => inner.message).join('; ')}`;
    case 'invalid_element':
      return `has an element that is not valid: ${issue.issues.map((inner) => inner.message).join('; ')}`;
    case 'custom': {
      const description = internals(issue.inst)?.description;
      return description === undefined ? 'is not valid here' : `must be ${description}`;
    }
    default:
      return 'is not valid here';
  }
}

const kinds: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  bigint: 'a bigint',
  array: 'a list',
  tuple: 'a list',
  object: 'an object',
  record: 'an object',
  map: 'a Map',
  set: 'a Set',
  date: 'a Date',
  function: 'a function',
  null: 'null',
  symbol: 'a symbol',
  file: 'a File',
};

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    case 'function':
      return 'a function';
    default:
      return `a ${typeof value}`;
  }
}

const article = (noun: string): string => `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;

function invalidType(expected: string, input: unknown): string {
  if (input === undefined) return 'is required';
  if (expected === 'never') return 'is not allowed here';
  const wanted = kinds[expected] ?? article(expected);
  const got = kindOf(input);
  // A fraction where a whole number is wanted is still a number: "not a number" would mislead.
  if (got === wanted || (expected === 'int' && got === 'a number')) return `must be ${wanted}`;
  return `must be ${wanted}, not ${got}`;
}

const wholeNumberFormats = new Set(['safeint', 'int32', 'uint32']);

/** Whether a number schema takes whole numbers only: `z.int()`, or `z.number().int()` as a check. */
function isWholeNumber(schema: unknown): boolean {
  const def = internals(schema)?._zod.def;
  if (def === undefined) return false;
  if (wholeNumberFormats.has(def.format as string)) return true;
  const checks = (def.checks as readonly unknown[] | undefined) ?? [];
  return checks.some((check) => wholeNumberFormats.has(internals(check)?._zod.def.format as string));
}

function bound(
  side: 'min' | 'max',
  origin: string,
  limit: number,
  inclusive: boolean,
  exact: boolean | undefined,
  issue: RawIssue,
): string {
  const atLeast = side === 'min' ? 'at least' : 'at most';
  switch (origin) {
    case 'string':
      if (exact) return `must be exactly ${limit} characters long`;
      if (side === 'min' && limit <= 1) return 'must not be empty';
      return `must be ${atLeast} ${limit} characters long`;
    case 'array':
    case 'set':
      if (exact) return `must have exactly ${limit} ${limit === 1 ? 'item' : 'items'}`;
      if (side === 'min' && limit <= 1) return 'must not be empty';
      return `must have ${atLeast} ${limit} ${limit === 1 ? 'item' : 'items'}`;
    case 'date':
      return `must be ${side === 'min' ? 'on or after' : 'on or before'} ${new Date(limit).toISOString()}`;
    case 'file':
      return `must be ${atLeast} ${limit} bytes`;
    default: {
      // Whole numbers above 0 read better as "at least 1" than as "greater than 0".
      if (isWholeNumber(issue.schema) && Number.isInteger(limit)) {
        const edge = inclusive ? limit : side === 'min' ? limit + 1 : limit - 1;
        return `must be a whole number of ${atLeast} ${edge}`;
      }
      if (inclusive) return `must be ${atLeast} ${limit}`;
      return `must be ${side === 'min' ? 'greater' : 'less'} than ${limit}`;
    }
  }
}

const formats: Readonly<Record<string, string>> = {
  url: 'a URL',
  email: 'an email address',
  uuid: 'a UUID',
  guid: 'a GUID',
  datetime: 'an ISO 8601 date and time',
  date: 'an ISO 8601 date',
  time: 'an ISO 8601 time',
  duration: 'an ISO 8601 duration',
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
  cidrv4: 'an IPv4 range',
  cidrv6: 'an IPv6 range',
  base64: 'base64 text',
  base64url: 'base64url text',
  hostname: 'a host name',
  json_string: 'JSON text',
};

function invalidFormat(issue: RawIssue & { code: 'invalid_format' }): string {
  const detail = issue as Readonly<Record<string, unknown>>;
  switch (issue.format) {
    case 'regex':
      return `must match the pattern ${String(issue.pattern)}`;
    case 'starts_with':
      return `must start with ${literal(detail.prefix)}`;
    case 'ends_with':
      return `must end with ${literal(detail.suffix)}`;
    case 'includes':
      return `must contain ${literal(detail.includes)}`;
    default:
      return `must be ${formats[issue.format] ?? `a valid ${issue.format}`}`;
  }
}

// Literals and options come from the schema, never from the input.
const literal = (value: unknown): string =>
  typeof value === 'string' ? JSON.stringify(value) : typeof value === 'bigint' ? `${value}n` : String(value);

function unknownKeys(keys: readonly string[], known: readonly string[]): string {
  return keys
    .map((key) => {
      const near = nearestName(key, known);
      if (near !== undefined) return `${key} is not an option here; did you mean ${near}?`;
      return known.length === 0
        ? `${key} is not an option here`
        : `${key} is not an option here; the options are ${known.join(', ')}`;
    })
    .join('; ');
}

function invalidUnion(issue: RawIssue & { code: 'invalid_union' }): string {
  const options = (internals(issue.inst)?._zod.def.options as readonly unknown[] | undefined) ?? [];
  const own = internals(issue.inst)?.description;
  const shapes =
    own ?? (options.length > 0 ? options.map((option) => describeSchema(option)).join(' or ') : '');
  const head = shapes === '' ? 'matches none of the shapes it may take' : `must be ${shapes}`;
  const branches = issue.errors;
  if (branches.length === 0) return head;
  // The nearest shape is the one with the fewest problems; its problems say what to change.
  let nearest = 0;
  for (let index = 1; index < branches.length; index++)
    if (branches[index]!.length < branches[nearest]!.length) nearest = index;
  const problems = branches[nearest]!;
  // A value of the wrong kind altogether (a number for a string) needs no more than the shapes.
  if (problems.every((problem) => problem.path.length === 0 && problem.code !== 'unrecognized_keys'))
    return head;
  const ordinal = ['first', 'second', 'third', 'fourth', 'fifth'][nearest] ?? `${nearest + 1}th`;
  const details = problems.map((problem) =>
    problem.path.length === 0 ? problem.message : `${problem.path.map(String).join('.')} ${problem.message}`,
  );
  return `${head}; as the ${ordinal}: ${details.join('; ')}`;
}

/** The keys of an object schema, or undefined for any other. */
function objectShape(schema: unknown): Readonly<Record<string, unknown>> | undefined {
  const def = internals(schema)?._zod.def;
  return def?.type === 'object' ? (def.shape as Readonly<Record<string, unknown>>) : undefined;
}

const wrappers = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

/**
 * A schema in plain words, for the shapes of a union: `a string`, `"SimpleStrategy"`,
 * `{ class?: "SimpleStrategy", replicationFactor: a whole number }`. A `.describe()` wins.
 */
export function describeSchema(schema: unknown, depth = 0): string {
  const inner = internals(schema);
  if (inner === undefined) return 'a value';
  if (inner.description !== undefined) return inner.description;
  const def = inner._zod.def;
  if (wrappers.has(def.type)) return describeSchema(def.innerType, depth);
  switch (def.type) {
    case 'number':
      return isWholeNumber(schema) ? 'a whole number' : 'a number';
    case 'literal':
      return (def.values as readonly unknown[]).map(literal).join(' or ');
    case 'enum':
      return `one of ${Object.values(def.entries as Record<string, unknown>)
        .map(literal)
        .join(', ')}`;
    case 'object': {
      const shape = def.shape as Readonly<Record<string, unknown>>;
      if (depth > 0) return `an object with ${Object.keys(shape).join(', ')}`;
      const keys = Object.entries(shape).map(([key, value]) => {
        // A key with a default may be left out as much as an optional one.
        const optional = internals(value)?._zod.optin === undefined ? '' : '?';
        return `${key}${optional}: ${describeSchema(value, depth + 1)}`;
      });
      return `{ ${keys.join(', ')} }`;
    }
    case 'array': {
      if (depth > 0) return 'a list';
      const element = describeSchema(def.element, depth + 1);
      return /^an? /.test(element) ? `a list of ${plural(element)}` : `a list, each ${element}`;
    }
    case 'record':
      return 'an object of named values';
    case 'union':
      return (def.options as readonly unknown[]).map((option) => describeSchema(option, depth)).join(' or ');
    case 'pipe':
      return describeSchema(def.in, depth);
    case 'custom': {
      const kind = inner._zod.bag.Class as { name?: string } | undefined;
      return kind?.name ? article(kind.name) : 'a value of its own kind';
    }
    default:
      return kinds[def.type] ?? article(def.type);
  }
}

const plural = (noun: string): string => noun.replace(/^an? (\S+)/, '$1s');

/**
 * The candidate nearest to a misspelt name, or undefined when none is near: compared without
 * case, `_` and `-` (so `replication_factor` finds `replicationFactor`), by edit distance with
 * transpositions, at most one edit per four characters (at least one).
 */
export function nearestName(name: string, candidates: Iterable<string>): string | undefined {
  const fold = (text: string): string => text.toLowerCase().replaceAll(/[_-]/g, '');
  const folded = fold(name);
  const allowed = Math.max(1, Math.floor(folded.length / 4));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const distance = editDistance(folded, fold(candidate));
    if (distance <= allowed && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        distance = Math.min(distance, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = distance;
    }
  }
  return rows[a.length]![b.length]!;
}
