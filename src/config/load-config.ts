import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../ports/errors.ts';
import { memoryCacheOptionsSchema, redisCacheOptionsSchema } from './schemas.ts';

export type CacheConfig =
  | ({ driver: 'memory' } & z.output<typeof memoryCacheOptionsSchema>)
  | ({ driver: 'redis' } & z.output<typeof redisCacheOptionsSchema>);

export interface InfrastructureConfig {
  cache: CacheConfig;
}

type Env = Record<string, string | undefined>;

const integer = (issues: ConfigIssue[], env: Env, name: string): number | undefined => {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (Number.isSafeInteger(value)) return value;
  issues.push({ path: name, message: 'must be an integer' });
  return undefined;
};

/**
 * Builds infrastructure options from environment variables: `CACHE_DRIVER` (memory|redis),
 * `CACHE_MAX_ENTRIES`, `CACHE_TIMEOUT_MS`, `REDIS_URL`, `REDIS_KEY_PREFIX`. Every problem is
 * reported at once, named by its variable.
 */
export function loadConfig(env: Env = process.env): InfrastructureConfig {
  const issues: ConfigIssue[] = [];
  const driver = env.CACHE_DRIVER ?? 'memory';
  const timeoutMs = integer(issues, env, 'CACHE_TIMEOUT_MS');
  const policies = timeoutMs === undefined ? undefined : { timeoutMs };
  let cache: CacheConfig | undefined;
  if (driver === 'memory') {
    const maxEntries = integer(issues, env, 'CACHE_MAX_ENTRIES');
    cache = collect(
      issues,
      memoryCacheOptionsSchema,
      { maxEntries, policies },
      { maxEntries: 'CACHE_MAX_ENTRIES' },
      (v) => ({
        driver: 'memory' as const,
        ...v,
      }),
    );
  } else if (driver === 'redis') {
    if (env.REDIS_URL === undefined)
      issues.push({ path: 'REDIS_URL', message: 'is required when CACHE_DRIVER=redis' });
    else {
      const input = { url: env.REDIS_URL, keyPrefix: env.REDIS_KEY_PREFIX, policies };
      cache = collect(
        issues,
        redisCacheOptionsSchema,
        input,
        { url: 'REDIS_URL', keyPrefix: 'REDIS_KEY_PREFIX' },
        (v) => ({
          driver: 'redis' as const,
          ...v,
        }),
      );
    }
  } else {
    issues.push({ path: 'CACHE_DRIVER', message: 'must be one of memory, redis' });
  }
  if (issues.length > 0 || cache === undefined)
    throw new ConfigError('configuration from the environment', issues);
  return { cache };
}

function collect<S extends z.ZodType, R>(
  issues: ConfigIssue[],
  schema: S,
  input: Record<string, unknown>,
  variables: Record<string, string>,
  build: (value: z.output<S>) => R,
): R | undefined {
  const defined = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
  const result = schema.safeParse(defined);
  if (result.success) return build(result.data);
  for (const issue of result.error.issues) {
    const [head] = issue.path;
    const variable = typeof head === 'string' ? variables[head] : undefined;
    issues.push({
      path: variable ?? (head === 'policies' ? 'CACHE_TIMEOUT_MS' : issue.path.join('.')),
      message: issue.message,
    });
  }
  return undefined;
}
