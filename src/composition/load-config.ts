import { readFileSync } from 'node:fs';
import { ConfigError, isInfraError, type ConfigIssue } from '../ports/errors.ts';
import { Redacted } from '../ports/redacted.ts';
import type { SecretStore } from '../ports/secret-store.ts';
import type { AdapterDescriptor, EnvVariable, PortName } from '../runtime/adapter-descriptor.ts';
import { defaultRuntime, type Runtime } from '../runtime/runtime.ts';
import { AdapterRegistry } from './builtin-adapters.ts';
import { portNames, ports, portVariables, type InfrastructureConfig } from './ports.ts';

export type { InfrastructureConfig };

type Env = Record<string, string | undefined>;
type Options = Record<string, unknown>;

export interface LoadConfigOptions {
  /**
   * Resolves values of the form `secret://<name>`. Default: the store `SECRETS_DRIVER` names,
   * built for the references and closed after them.
   */
  secrets?: SecretStore;
  runtime?: Runtime;
  /** Adapters of the application's own or another package's, beside (or replacing) berth's. */
  adapters?: readonly AdapterDescriptor[];
  /**
   * Ports built on the driver that needs no server (`memory`; `embedded` for sql) when their
   * `<PREFIX>_DRIVER` is unset. Default none.
   */
  memoryDefaults?: readonly PortName[];
}

const secretReference = 'secret://';

/**
 * Builds the configuration of every port from environment variables, through the adapters'
 * descriptors: `<PREFIX>_DRIVER` picks a port's driver (`CACHE_DRIVER=redis`), the driver's
 * variables give its options, `<PREFIX>_TIMEOUT_MS` its deadline, `<PREFIX>_TOTAL_TIMEOUT_MS`
 * its budget across retries. `<NAME>_<PREFIX>_DRIVER` declares another instance named `<name>`, whose variables carry `<NAME>_` in front
 * (`SESSIONS_CACHE_DRIVER=redis`, `SESSIONS_REDIS_URL=…`). Any value may be `secret://<name>`,
 * read from a secret store. Every problem is reported at once, named by its variable, never
 * with a value. The README's table lists every variable.
 */
export async function loadConfig(
  env: Env = process.env,
  options: LoadConfigOptions = {},
): Promise<InfrastructureConfig> {
  const registry = new AdapterRegistry(options.adapters);
  const resolved = await resolveSecretReferences(env, options, registry);
  const issues: ConfigIssue[] = [];
  const config: Record<string, unknown> = {};
  const instances: Record<string, Record<string, unknown>> = {};
  for (const port of portNames) {
    for (const name of instanceNames(resolved, port)) {
      const built = instanceFrom(resolved, registry, port, name, options.memoryDefaults ?? [], issues);
      if (built === undefined) continue;
      if (name === 'default') config[port] = built;
      else (instances[port] ??= {})[name] = built;
    }
  }
  if (issues.length > 0) throw new ConfigError('configuration from the environment', issues);
  if (Object.keys(instances).length > 0) config.instances = instances;
  return config;
}

/** `default`, then the names of `<NAME>_<PREFIX>_DRIVER` variables, lower-cased with `-` for `_`. */
function instanceNames(env: Env, port: PortName): string[] {
  const suffix = `_${ports[port].envPrefix}_DRIVER`;
  const named = Object.keys(env)
    .filter((variable) => variable.endsWith(suffix) && /^[A-Z][A-Z0-9_]*$/.test(variable))
    .map((variable) => variable.slice(0, -suffix.length).toLowerCase().replaceAll('_', '-'))
    .filter((name) => name !== '' && name !== 'default')
    .sort();
  return ['default', ...named];
}

const variablePrefix = (name: string): string =>
  name === 'default' ? '' : `${name.toUpperCase().replaceAll('-', '_')}_`;

function instanceFrom(
  env: Env,
  registry: AdapterRegistry,
  port: PortName,
  name: string,
  memoryDefaults: readonly PortName[],
  issues: ConfigIssue[],
): Options | undefined {
  const prefix = variablePrefix(name);
  const driverVariable = `${prefix}${ports[port].envPrefix}_DRIVER`;
  const driver =
    env[driverVariable] ||
    (name === 'default' && memoryDefaults.includes(port) ? ports[port].inMemoryDriver : '');
  if (driver === '') return undefined;
  const descriptor = registry.find(port, driver);
  if (descriptor === undefined) {
    issues.push({ path: driverVariable, message: `must be one of ${registry.drivers(port).join(', ')}` });
    return undefined;
  }
  const variables: Record<string, EnvVariable> = {
    ...portVariables(port),
    ...descriptor.env,
  };
  const input: Options = name === 'default' ? {} : { id: `${ports[port].idPrefix}:${name}` };
  const optionVariables: Record<string, string> = {};
  // Variables already reported (missing, not a number…) get no second issue from the schema.
  const named = new Set<string>();
  const report = (path: string, message: string): void => {
    if (named.has(path)) return;
    named.add(path);
    issues.push({ path, message });
  };
  for (const [variable, spec] of Object.entries(variables)) {
    const fullName = prefix + variable;
    optionVariables[spec.option] = fullName;
    const raw = env[fullName];
    if (raw === undefined || raw === '') {
      if (spec.required) report(fullName, `is required when ${driverVariable}=${driver}`);
      continue;
    }
    const value = envValue(raw, spec, (message) => report(fullName, message));
    if (value !== undefined) setPath(input, spec.option, value);
  }
  const result = descriptor.options.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.map(String);
      // Named by the variable behind the option, or behind the nearest option above it.
      let variable: string | undefined;
      for (let depth = path.length; depth > 0 && variable === undefined; depth--)
        variable = optionVariables[path.slice(0, depth).join('.')];
      // One issue per variable: a list such as KAFKA_BROKERS may fail in several places.
      report(variable ?? `${driverVariable}=${driver}: ${path.join('.')}`, issue.message);
    }
    return undefined;
  }
  return { driver, ...(result.data as Options) };
}

function envValue(raw: string, spec: EnvVariable, invalid: (message: string) => void): unknown {
  switch (spec.kind ?? 'string') {
    case 'integer': {
      const value = Number(raw);
      if (Number.isSafeInteger(value)) return value;
      invalid('must be an integer');
      return undefined;
    }
    case 'boolean':
      if (raw === 'true' || raw === 'false') return raw === 'true';
      invalid('must be true or false');
      return undefined;
    case 'list':
      return raw.split(',').map((item) => item.trim());
    case 'secret':
      return new Redacted(raw);
    case 'file':
      try {
        return readFileSync(raw, 'utf8');
      } catch (error) {
        invalid(`names a file that cannot be read (${errorCode(error)})`);
        return undefined;
      }
    case 'string':
      return raw;
  }
}

const errorCode = (error: unknown): string =>
  typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'error';

function setPath(target: Options, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Options;
  node[keys.at(-1)!] = value;
}

async function resolveSecretReferences(
  env: Env,
  options: LoadConfigOptions,
  registry: AdapterRegistry,
): Promise<Env> {
  const references = Object.entries(env).filter(
    (entry): entry is [string, string] => entry[1]?.startsWith(secretReference) === true,
  );
  if (references.length === 0) return env;
  const issues: ConfigIssue[] = [];
  const owned =
    options.secrets === undefined
      ? await secretStoreFromEnv(env, registry, issues, options.runtime ?? defaultRuntime())
      : undefined;
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

/** The default secret store, built only to read references; its own variables are read as given. */
async function secretStoreFromEnv(
  env: Env,
  registry: AdapterRegistry,
  issues: ConfigIssue[],
  runtime: Runtime,
): Promise<SecretStore | undefined> {
  const options = instanceFrom(env, registry, 'secrets', 'default', [], issues);
  if (options === undefined) return undefined;
  const { driver, ...rest } = options;
  const descriptor = registry.find('secrets', String(driver))!;
  if (descriptor.environmentOption !== undefined) rest[descriptor.environmentOption] = env;
  return (await descriptor.create(rest, runtime)) as SecretStore;
}
