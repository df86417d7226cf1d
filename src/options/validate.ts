import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../ports/errors.ts';

/**
 * Parses options with a zod schema, listing every bad path at once. Messages are built from
 * the issue codes zod reports, never from the input, so no secret value is echoed.
 */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, subject: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues: ConfigIssue[] = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  throw new ConfigError(subject, issues);
}
