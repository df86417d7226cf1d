import { z } from 'zod';
import { ConfigError, isInfraError, type ConfigIssue } from '../ports/errors.ts';
import { Redacted } from '../ports/redacted.ts';
import type { SecretStore } from '../ports/secret-store.ts';
import { defaultRuntime, type Runtime } from '../runtime/runtime.ts';
import type { MemoryBrokerOptions } from '../adapters/memory/broker.ts';
import {
  memoryDocumentStoreOptionsSchema,
  mongoDocumentStoreOptionsSchema,
} from '../options/document-store-schemas.ts';
import {
  kafkaBrokerOptionsSchema,
  memoryCacheOptionsSchema,
  redisBrokerOptionsSchema,
  redisCacheOptionsSchema,
} from '../options/schemas.ts';

export type CacheConfig =
  | ({ driver: 'memory' } & z.output<typeof memoryCacheOptionsSchema>)
  | ({ driver: 'redis' } & z.output<typeof redisCacheOptionsSchema>);

export type BrokerConfig =
  | ({ driver: 'memory' } & MemoryBrokerOptions)
  | ({ driver: 'kafka' } & z.output<typeof kafkaBrokerOptionsSchema>)
  | ({ driver: 'redis' } & z.output<typeof redisBrokerOptionsSchema>);

export type DocumentStoreConfig =
  | ({ driver: 'memory' } & z.output<typeof memoryDocumentStoreOptionsSchema>)
  | ({ driver: 'mongodb' } & z.output<typeof mongoDocumentStoreOptionsSchema>);

export interface InfrastructureConfig {
  cache: CacheConfig;
  broker: BrokerConfig;
  documents: DocumentStoreConfig;
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

export interface LoadConfigOptions {
  /**
   * Resolves values of the form `secret://<name>`. Default: the store `SECRETS_DRIVER` names:
   * `env` (variables under `SECRETS_ENV_PREFIX`, default `SECRET_`) or `file` (the folder
   * `SECRETS_DIR`); any other store, such as Azure Key Vault, is passed here.
   */
  secrets?: SecretStore;
  runtime?: Runtime;
}

const secretReference = 'secret://';

/**
 * Builds infrastructure options from environment variables: `CACHE_DRIVER` (memory|redis),
 * `CACHE_MAX_ENTRIES`, `CACHE_TIMEOUT_MS`, `REDIS_URL`, `REDIS_PASSWORD`, `REDIS_KEY_PREFIX`;
 * `BROKER_DRIVER` (memory|kafka|redis), `BROKER_TIMEOUT_MS`, `KAFKA_BROKERS` (comma-separated
 * host:port), `KAFKA_CLIENT_ID`, `KAFKA_SSL`, `KAFKA_SASL_MECHANISM`, `KAFKA_SASL_USERNAME`,
 * `KAFKA_SASL_PASSWORD`, `REDIS_STREAM_PREFIX`; `DOCUMENT_STORE_DRIVER` (memory|mongodb),
 * `DOCUMENT_STORE_TIMEOUT_MS`, `MONGODB_URL`, `MONGODB_DATABASE`, `MONGODB_USERNAME`,
 * `MONGODB_PASSWORD`. Any value may be a reference,
 * `secret://<name>`, read from a secret store. Every problem is reported at once, named by its
 * variable, never with a value.
 */
export async function loadConfig(
  env: Env = process.env,
  options: LoadConfigOptions = {},
): Promise<InfrastructureConfig> {
  return configFrom(await resolveSecretReferences(env, options));
}

async function resolveSecretReferences(env: Env, options: LoadConfigOptions): Promise<Env> {
  const references = Object.entries(env).filter(
    (entry): entry is [string, string] => entry[1]?.startsWith(secretReference) === true,
  );
  if (references.length === 0) return env;
  const issues: ConfigIssue[] = [];
  const owned =
    options.secrets === undefined ? await secretStoreFromEnv(env, issues, options.runtime) : undefined;
  const store = options.secrets ?? owned;
  if (store === undefined) {
    if (issues.length === 0) {
      for (const [variable] of references)
        issues.push({
          path: variable,
          message: 'is a secret:// reference but no secret store is configured (SECRETS_DRIVER)',
        });
    }
    throw new ConfigError('configuration from the environment', issues);
  }
  const resolved: Env = { ...env };
  try {
    await Promise.all(
      references.map(async ([variable, reference]) => {
        const name = reference.slice(secretReference.length);
        try {
          resolved[variable] = (await store.get(name)).value.reveal();
        } catch (error) {
          const reason = isInfraError(error) ? error.reason : 'internal';
          issues.push({
            path: variable,
            message: `secret "${name}" could not be read from ${store.id}: ${reason}`,
          });
        }
      }),
    );
  } finally {
    await owned?.close();
  }
  if (issues.length > 0) throw new ConfigError('configuration from the environment', issues);
  return resolved;
}

async function secretStoreFromEnv(
  env: Env,
  issues: ConfigIssue[],
  runtime: Runtime = defaultRuntime(),
): Promise<SecretStore | undefined> {
  const driver = env.SECRETS_DRIVER;
  if (driver === undefined || driver === '') return undefined;
  if (driver === 'env') {
    const { createEnvSecretStore } = await import('../adapters/env/secret-store.ts');
    return createEnvSecretStore({ prefix: env.SECRETS_ENV_PREFIX || undefined, env }, runtime);
  }
  if (driver === 'file') {
    if (!env.SECRETS_DIR) {
      issues.push({ path: 'SECRETS_DIR', message: 'is required when SECRETS_DRIVER=file' });
      return undefined;
    }
    const { createFileSecretStore } = await import('../adapters/file/secret-store.ts');
    return createFileSecretStore({ directory: env.SECRETS_DIR }, runtime);
  }
  issues.push({
    path: 'SECRETS_DRIVER',
    message: 'must be one of env, file (pass other stores to loadConfig)',
  });
  return undefined;
}

function configFrom(env: Env): InfrastructureConfig {
  const issues: ConfigIssue[] = [];
  const cache = cacheFrom(env, issues);
  const broker = brokerFrom(env, issues);
  const documents = documentStoreFrom(env, issues);
  if (issues.length > 0 || cache === undefined || broker === undefined || documents === undefined)
    throw new ConfigError('configuration from the environment', issues);
  return { cache, broker, documents };
}

const timeoutPolicy = (issues: ConfigIssue[], env: Env, variable: string) => {
  const timeoutMs = integer(issues, env, variable);
  return timeoutMs === undefined ? undefined : { timeoutMs };
};

/** A secret variable's value, wrapped so no log or error shows it; absent when unset or empty. */
const redacted = (env: Env, variable: string): Redacted<string> | undefined => {
  const value = env[variable];
  return value ? new Redacted(value) : undefined;
};

function cacheFrom(env: Env, issues: ConfigIssue[]): CacheConfig | undefined {
  const driver = env.CACHE_DRIVER ?? 'memory';
  const policies = timeoutPolicy(issues, env, 'CACHE_TIMEOUT_MS');
  if (driver === 'memory') {
    const maxEntries = integer(issues, env, 'CACHE_MAX_ENTRIES');
    return collect(
      issues,
      memoryCacheOptionsSchema,
      { maxEntries, policies },
      { maxEntries: 'CACHE_MAX_ENTRIES', policies: 'CACHE_TIMEOUT_MS' },
      (v) => ({ driver: 'memory' as const, ...v }),
    );
  }
  if (driver === 'redis') {
    if (env.REDIS_URL === undefined) {
      issues.push({ path: 'REDIS_URL', message: 'is required when CACHE_DRIVER=redis' });
      return undefined;
    }
    const input = {
      url: env.REDIS_URL,
      password: redacted(env, 'REDIS_PASSWORD'),
      keyPrefix: env.REDIS_KEY_PREFIX,
      policies,
    };
    return collect(
      issues,
      redisCacheOptionsSchema,
      input,
      {
        url: 'REDIS_URL',
        password: 'REDIS_PASSWORD',
        keyPrefix: 'REDIS_KEY_PREFIX',
        policies: 'CACHE_TIMEOUT_MS',
      },
      (v) => ({ driver: 'redis' as const, ...v }),
    );
  }
  issues.push({ path: 'CACHE_DRIVER', message: 'must be one of memory, redis' });
  return undefined;
}

function brokerFrom(env: Env, issues: ConfigIssue[]): BrokerConfig | undefined {
  const driver = env.BROKER_DRIVER ?? 'memory';
  const policies = timeoutPolicy(issues, env, 'BROKER_TIMEOUT_MS');
  if (driver === 'memory') return { driver: 'memory', policies };
  if (driver === 'kafka') {
    if (!env.KAFKA_BROKERS) {
      issues.push({ path: 'KAFKA_BROKERS', message: 'is required when BROKER_DRIVER=kafka' });
      return undefined;
    }
    const ssl = env.KAFKA_SSL;
    if (ssl !== undefined && ssl !== '' && ssl !== 'true' && ssl !== 'false')
      issues.push({ path: 'KAFKA_SSL', message: 'must be true or false' });
    const saslGiven = [env.KAFKA_SASL_MECHANISM, env.KAFKA_SASL_USERNAME, env.KAFKA_SASL_PASSWORD].some(
      (value) => value !== undefined && value !== '',
    );
    const input = {
      brokers: env.KAFKA_BROKERS.split(',').map((broker) => broker.trim()),
      clientId: env.KAFKA_CLIENT_ID || undefined,
      ssl: ssl === 'true' ? true : undefined,
      sasl: saslGiven
        ? {
            mechanism: env.KAFKA_SASL_MECHANISM,
            username: env.KAFKA_SASL_USERNAME,
            password: redacted(env, 'KAFKA_SASL_PASSWORD'),
          }
        : undefined,
      policies,
    };
    return collect(
      issues,
      kafkaBrokerOptionsSchema,
      input,
      {
        brokers: 'KAFKA_BROKERS',
        clientId: 'KAFKA_CLIENT_ID',
        'sasl.mechanism': 'KAFKA_SASL_MECHANISM',
        'sasl.username': 'KAFKA_SASL_USERNAME',
        'sasl.password': 'KAFKA_SASL_PASSWORD',
        policies: 'BROKER_TIMEOUT_MS',
      },
      (v) => ({ driver: 'kafka' as const, ...v }),
    );
  }
  if (driver === 'redis') {
    if (env.REDIS_URL === undefined) {
      issues.push({ path: 'REDIS_URL', message: 'is required when BROKER_DRIVER=redis' });
      return undefined;
    }
    const input = {
      url: env.REDIS_URL,
      password: redacted(env, 'REDIS_PASSWORD'),
      streamPrefix: env.REDIS_STREAM_PREFIX,
      policies,
    };
    return collect(
      issues,
      redisBrokerOptionsSchema,
      input,
      {
        url: 'REDIS_URL',
        password: 'REDIS_PASSWORD',
        streamPrefix: 'REDIS_STREAM_PREFIX',
        policies: 'BROKER_TIMEOUT_MS',
      },
      (v) => ({ driver: 'redis' as const, ...v }),
    );
  }
  issues.push({ path: 'BROKER_DRIVER', message: 'must be one of memory, kafka, redis' });
  return undefined;
}

function documentStoreFrom(env: Env, issues: ConfigIssue[]): DocumentStoreConfig | undefined {
  const driver = env.DOCUMENT_STORE_DRIVER ?? 'memory';
  const policies = timeoutPolicy(issues, env, 'DOCUMENT_STORE_TIMEOUT_MS');
  if (driver === 'memory') {
    return collect(
      issues,
      memoryDocumentStoreOptionsSchema,
      { policies },
      { policies: 'DOCUMENT_STORE_TIMEOUT_MS' },
      (v) => ({ driver: 'memory' as const, ...v }),
    );
  }
  if (driver === 'mongodb') {
    const required = ['MONGODB_URL', 'MONGODB_DATABASE'].filter((variable) => !env[variable]);
    for (const variable of required)
      issues.push({ path: variable, message: 'is required when DOCUMENT_STORE_DRIVER=mongodb' });
    if (required.length > 0) return undefined;
    const credentialsGiven = Boolean(env.MONGODB_USERNAME || env.MONGODB_PASSWORD);
    const input = {
      url: env.MONGODB_URL,
      database: env.MONGODB_DATABASE,
      auth: credentialsGiven
        ? {
            username: env.MONGODB_USERNAME || undefined,
            password: redacted(env, 'MONGODB_PASSWORD'),
          }
        : undefined,
      policies,
    };
    return collect(
      issues,
      mongoDocumentStoreOptionsSchema,
      input,
      {
        url: 'MONGODB_URL',
        database: 'MONGODB_DATABASE',
        'auth.username': 'MONGODB_USERNAME',
        'auth.password': 'MONGODB_PASSWORD',
        policies: 'DOCUMENT_STORE_TIMEOUT_MS',
      },
      (v) => ({ driver: 'mongodb' as const, ...v }),
    );
  }
  issues.push({ path: 'DOCUMENT_STORE_DRIVER', message: 'must be one of memory, mongodb' });
  return undefined;
}

/** Validates `input` with `schema`; each issue is named by the variable behind its field (`variables` maps `field` or `field.sub`). */
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
  const named = new Set<string>();
  for (const issue of result.error.issues) {
    const [head, sub] = issue.path.map(String);
    const path =
      (sub === undefined ? undefined : variables[`${head}.${sub}`]) ??
      (head === undefined ? undefined : variables[head]) ??
      issue.path.join('.');
    // One issue per variable: a list such as KAFKA_BROKERS may fail in several places.
    if (named.has(path)) continue;
    named.add(path);
    issues.push({ path, message: issue.message });
  }
  return undefined;
}
