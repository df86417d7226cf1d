import type { HealthResult } from '../../ports/component.ts';
import type { ErrorClassification } from '../../ports/errors.ts';
import type { SecretStore, SecretStoreAdapter, StoredSecret } from '../../ports/secret-store.ts';
import { parseOptions } from '../../runtime/options/validate.ts';
import { envSecretStoreOptionsSchema, type EnvSecretStoreOptions } from './options.ts';
import { guardSecretStore } from '../../runtime/secrets/guarded-secret-store.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';

type Env = Record<string, string | undefined>;

// Only suffixes that map back to themselves: `REDIS_PASSWORD` lists as `redis-password`.
const listableSuffix = /^[A-Z0-9][A-Z0-9_]*$/;

/** Read-only secrets from environment variables under a prefix. */
class EnvSecretStoreAdapter implements SecretStoreAdapter {
  readonly system = 'env';
  readonly #prefix: string;
  readonly #env: Env;

  constructor(prefix: string, env: Env) {
    this.#prefix = prefix;
    this.#env = env;
  }

  #variableOf(name: string): string {
    return this.#prefix + name.toUpperCase().replace(/[-.]/g, '_');
  }

  get(name: string): Promise<StoredSecret | undefined> {
    const value = this.#env[this.#variableOf(name)];
    return Promise.resolve(value === undefined || value === '' ? undefined : { name, value });
  }

  list(): Promise<string[]> {
    const names: string[] = [];
    for (const [variable, value] of Object.entries(this.#env)) {
      if (!variable.startsWith(this.#prefix) || value === undefined || value === '') continue;
      const suffix = variable.slice(this.#prefix.length);
      if (listableSuffix.test(suffix)) names.push(suffix.toLowerCase().replaceAll('_', '-'));
    }
    return Promise.resolve(names);
  }

  probe(): Promise<HealthResult> {
    return Promise.resolve({ status: 'up', details: { prefix: this.#prefix } });
  }

  classifyError(): ErrorClassification {
    return { reason: 'internal' };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Secrets from environment variables: `redis-password` is `<prefix>REDIS_PASSWORD`. Read-only. */
export function createEnvSecretStore(
  options: EnvSecretStoreOptions = {},
  runtime: Runtime = defaultRuntime(),
): SecretStore {
  const parsed = parseOptions(envSecretStoreOptionsSchema, options, 'env secret store options');
  return guardSecretStore(
    new EnvSecretStoreAdapter(parsed.prefix, parsed.env ?? process.env),
    parsed,
    runtime,
  );
}
