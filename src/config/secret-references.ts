// `secret://<name>` values of the environment: read once for loadConfig, and kept as references so
// that a secret option (a password) can be read again when its backend refuses it (rotation).
import { ConfigError, isInfraError, type ConfigIssue } from '../ports/errors.ts';
import { readPastCache } from '../ports/rotating-secret.ts';
import type { SecretStore } from '../ports/secret-store.ts';
import type { Env } from './variable-names.ts';

const secretReference = 'secret://';

/** Where a variable's secret comes from again: its name in the store, and a read past any cache. */
export interface SecretSource {
  readonly name: string;
  readonly read: () => Promise<string>;
}

export interface ResolvedReferences {
  /** The environment with every reference replaced by its value. */
  readonly env: Env;
  /** The source of each variable that was a reference, by variable. */
  readonly sources: ReadonlyMap<string, SecretSource>;
}

/**
 * Reads every `secret://` value of `env` from `given`, or else from the store `open` builds (the
 * one SECRETS_DRIVER names), closed after. A later read of a source goes to `given` past its cache,
 * or to a store `open` builds for that read alone: nothing stays open between rotations.
 */
export async function resolveSecretReferences(
  env: Env,
  subject: string,
  given: SecretStore | undefined,
  open: (issues: ConfigIssue[]) => Promise<SecretStore | undefined>,
): Promise<ResolvedReferences> {
  const references = Object.entries(env).filter(
    (entry): entry is [string, string] => entry[1]?.startsWith(secretReference) === true,
  );
  const sources = new Map<string, SecretSource>();
  if (references.length === 0) return { env, sources };
  const issues: ConfigIssue[] = [];
  const owned = given === undefined ? await open(issues) : undefined;
  const store = given ?? owned;
  if (store === undefined) {
    if (issues.length === 0) {
      for (const [variable] of references)
        issues.push({
          path: variable,
          message: 'is a secret:// reference but no secret store is configured (SECRETS_DRIVER)',
        });
    }
    throw new ConfigError(subject, issues);
  }
  const resolved: Env = { ...env };
  try {
    await Promise.all(
      references.map(async ([variable, reference]) => {
        const name = reference.slice(secretReference.length);
        try {
          resolved[variable] = (await store.get(name)).value.reveal();
          sources.set(variable, {
            name,
            read: () => (given ? readPastCache(given, name) : readOnce(open, name)),
          });
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
  if (issues.length > 0) throw new ConfigError(subject, issues);
  return { env: resolved, sources };
}

/** One read through a store built for it and closed after. */
async function readOnce(
  open: (issues: ConfigIssue[]) => Promise<SecretStore | undefined>,
  name: string,
): Promise<string> {
  const issues: ConfigIssue[] = [];
  const store = await open(issues);
  if (store === undefined) throw new ConfigError('secret store (SECRETS_DRIVER)', issues);
  try {
    return (await store.get(name)).value.reveal();
  } finally {
    await store.close();
  }
}
