import type { z } from 'zod';
import { ConfigError, describeIssues, type ConfigIssue } from '../ports/errors.ts';

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

/** Parses options with a zod schema; a `ConfigError` lists every bad path at once. */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, subject: string): z.output<S> {
  const result = schema.safeParse(input);
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
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw invalid(describeIssues(schemaIssues(result.error.issues)));
}
