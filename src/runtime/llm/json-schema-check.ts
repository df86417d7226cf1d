// The JSON Schema keywords tool parameters use, checked without a validator dependency: a model's
// arguments are small, and a schema beyond this subset is left to the provider's own checks.
type Schema = Record<string, unknown>;

const typeOf = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
};

function hasType(value: unknown, type: unknown): boolean {
  const actual = typeOf(value);
  const allowed = Array.isArray(type) ? type : [type];
  return allowed.some((t) => t === actual || (t === 'number' && actual === 'integer'));
}

/**
 * The first place `value` breaks `schema` (type, enum, const, properties, required,
 * additionalProperties, items, min/max lengths and bounds, anyOf), as `<path>: <what>`; undefined
 * when it matches.
 */
export function jsonSchemaIssue(schema: unknown, value: unknown, path = 'arguments'): string | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined;
  const s = schema as Schema;
  if (s.type !== undefined && !hasType(value, s.type))
    return `${path}: must be ${Array.isArray(s.type) ? s.type.join(' or ') : JSON.stringify(s.type)}`;
  if (Array.isArray(s.enum) && !s.enum.some((v) => JSON.stringify(v) === JSON.stringify(value)))
    return `${path}: must be one of ${s.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  if ('const' in s && JSON.stringify(s.const) !== JSON.stringify(value))
    return `${path}: must be ${JSON.stringify(s.const)}`;
  if (Array.isArray(s.anyOf) && !s.anyOf.some((branch) => jsonSchemaIssue(branch, value, path) === undefined))
    return `${path}: matches none of its anyOf schemas`;
  if (typeof value === 'string') return stringIssue(s, value, path);
  if (typeof value === 'number') return numberIssue(s, value, path);
  if (Array.isArray(value)) return arrayIssue(s, value, path);
  if (typeof value === 'object' && value !== null) return objectIssue(s, value as Schema, path);
  return undefined;
}

function stringIssue(s: Schema, value: string, path: string): string | undefined {
  if (typeof s.minLength === 'number' && value.length < s.minLength)
    return `${path}: must be at least ${s.minLength} characters`;
  if (typeof s.maxLength === 'number' && value.length > s.maxLength)
    return `${path}: must be at most ${s.maxLength} characters`;
  return undefined;
}

function numberIssue(s: Schema, value: number, path: string): string | undefined {
  if (typeof s.minimum === 'number' && value < s.minimum) return `${path}: must be at least ${s.minimum}`;
  if (typeof s.maximum === 'number' && value > s.maximum) return `${path}: must be at most ${s.maximum}`;
  return undefined;
}

function arrayIssue(s: Schema, value: unknown[], path: string): string | undefined {
  if (typeof s.minItems === 'number' && value.length < s.minItems)
    return `${path}: must have at least ${s.minItems} items`;
  if (typeof s.maxItems === 'number' && value.length > s.maxItems)
    return `${path}: must have at most ${s.maxItems} items`;
  for (const [index, item] of value.entries()) {
    const issue = jsonSchemaIssue(s.items, item, `${path}.${index}`);
    if (issue !== undefined) return issue;
  }
  return undefined;
}

function objectIssue(s: Schema, value: Schema, path: string): string | undefined {
  const properties = (s.properties ?? {}) as Record<string, unknown>;
  for (const key of Array.isArray(s.required) ? (s.required as string[]) : [])
    if (!(key in value)) return `${path}.${key}: is required`;
  for (const [key, item] of Object.entries(value)) {
    if (key in properties) {
      const issue = jsonSchemaIssue(properties[key], item, `${path}.${key}`);
      if (issue !== undefined) return issue;
    } else if (s.additionalProperties === false) return `${path}.${key}: is not allowed`;
    else if (typeof s.additionalProperties === 'object') {
      const issue = jsonSchemaIssue(s.additionalProperties, item, `${path}.${key}`);
      if (issue !== undefined) return issue;
    }
  }
  return undefined;
}
