import { readFileSync } from 'node:fs';
import { ConfigError, type ConfigIssue } from '../ports/errors.ts';
import { Redacted } from '../ports/redacted.ts';
import { RotatingSecret } from '../ports/rotating-secret.ts';
import type { SecretStore } from '../ports/secret-store.ts';
import { safeParsePlain } from '../runtime/options/validate.ts';
import {
  createAdapter,
  missingPackages,
  missingPackagesMessage,
  type AdapterDescriptor,
  type EnvVariable,
  type PortName,
} from '../runtime/adapter-descriptor.ts';
import { defaultRuntime, type Runtime } from '../runtime/runtime.ts';
import { AdapterRegistry, builtinAdapters } from './builtin-adapters.ts';
import { portNames, ports, portVariables, type InfrastructureConfig } from './ports.ts';
import {
  reportUnknownVariables,
  unknownVariables,
  vocabularyOf,
  type UnknownVariable,
  type Vocabulary,
} from './unknown-variables.ts';
import { driverVariable, instanceNames, variablePrefix, type Env } from './variable-names.ts';
import { resolveSecretReferences, type SecretSource } from './secret-references.ts';

export type { UnknownVariable };
export { driverVariable };

export type { InfrastructureConfig };

type Options = Record<string, unknown>;

export interface LoadConfigOptions {
  /**
   * Resolves values of the form `secret://<name>`. Default: the store `SECRETS_DRIVER` names,
   * built for the references and closed after them.
   */
  secrets?: SecretStore;
  /** Its logger gets the warning about unknown variables; default the shared default runtime. */
  runtime?: Runtime;
  /** Adapters of the application's own or another package's, beside (or replacing) berth's. */
  adapters?: readonly AdapterDescriptor[];
  /**
   * Ports built on the driver that needs no server (`memory`; `embedded` for sql) when their
   * `<PREFIX>_DRIVER` is unset. Default none.
   */
  memoryDefaults?: readonly PortName[];
  /**
   * Receives the variables that look like berth's (a port's prefix such as `CACHE_`, a driver's
   * such as `REDIS_`, either after a named instance's `<NAME>_`) but that nothing reads, such as
   * `CACHE_DRIVR`, each with the nearest known variable when one is near. Called once per call
   * when there is any, even when the configuration is invalid, in place of the default: one
   * warning line on the runtime's logger, naming each variable once per logger. An application
   * whose own variables share such a prefix (`CACHE_TTL_S`) may pass `() => {}` to silence it.
   * Kubernetes service links (`KAFKA_SERVICE_HOST`, `REDIS_PORT_6379_TCP`) are never reported.
   */
  onUnknownVariables?: (unknown: readonly UnknownVariable[]) => void;
}

const subject = 'configuration from the environment';

// Configs loadConfig returned, so that createInfrastructure names a variable, not an option, in its errors.
const fromEnvironment = new WeakSet<object>();

/** Whether `config` is one `loadConfig` returned (not a copy): its problems are named by variable. */
export function isConfigFromEnvironment(config: object): boolean {
  return fromEnvironment.has(config);
}

/**
 * Builds the configuration of every port from environment variables, through the adapters'
 * descriptors: `<PREFIX>_DRIVER` picks a port's driver (`CACHE_DRIVER=redis`), the driver's
 * variables give its options, `<PREFIX>_TIMEOUT_MS` its deadline, `<PREFIX>_TOTAL_TIMEOUT_MS`
 * its budget across retries. `<NAME>_<PREFIX>_DRIVER` declares another instance named `<name>`, whose variables carry `<NAME>_` in front
 * (`SESSIONS_CACHE_DRIVER=redis`, `SESSIONS_REDIS_URL=…`). Any value may be `secret://<name>`,
 * read from a secret store. Every problem is reported at once, named by its variable, never
 * with a value; a driver whose SDK is not installed is one of them. A variable with a prefix
 * berth reads that nothing reads (`CACHE_DRIVR`) is a warning, not an error: see
 * {@link LoadConfigOptions.onUnknownVariables}. The README's table lists every variable.
 */
export async function loadConfig(
  env: Env = process.env,
  options: LoadConfigOptions = {},
): Promise<InfrastructureConfig> {
  const registry = new AdapterRegistry(options.adapters);
  const vocabulary = vocabularyOf([...builtinAdapters, ...(options.adapters ?? [])]);
  const readPrefixes: string[] = [];
  try {
    const runtime = options.runtime ?? defaultRuntime();
    const { env: resolved, sources } = await resolveSecretReferences(
      env,
      subject,
      options.secrets,
      (issues) => secretStoreFromEnv(env, registry, vocabulary, issues, runtime),
    );
    const issues: ConfigIssue[] = [];
    const config: Record<string, unknown> = {};
    const instances: Record<string, Record<string, unknown>> = {};
    for (const port of portNames) {
      for (const name of instanceNames(resolved, port)) {
        const built = instanceFrom(
          resolved,
          registry,
          vocabulary,
          port,
          name,
          options.memoryDefaults ?? [],
          issues,
          sources,
        );
        if (built === undefined) continue;
        if (built.readPrefix !== undefined) readPrefixes.push(built.readPrefix);
        if (name === 'default') config[port] = built.options;
        else (instances[port] ??= {})[name] = built.options;
      }
    }
    if (issues.length > 0) throw new ConfigError(subject, issues);
    if (Object.keys(instances).length > 0) config.instances = instances;
    fromEnvironment.add(config);
    return config;
  } finally {
    reportUnknownVariables(unknownVariables(env, vocabulary, readPrefixes), options);
  }
}

interface BuiltInstance {
  options: Options;
  /** Variables an instance that reads the whole environment reads by prefix (the env secret store's). */
  readPrefix?: string | undefined;
}

function instanceFrom(
  env: Env,
  registry: AdapterRegistry,
  vocabulary: Vocabulary,
  port: PortName,
  name: string,
  memoryDefaults: readonly PortName[],
  issues: ConfigIssue[],
  sources: ReadonlyMap<string, SecretSource> = new Map(),
): BuiltInstance | undefined {
  const prefix = variablePrefix(name);
  const selector = driverVariable(port, name);
  const driver =
    env[selector] || (name === 'default' && memoryDefaults.includes(port) ? ports[port].inMemoryDriver : '');
  if (driver === '') return undefined;
  // Variables already reported (missing, not a number…) get no second issue from the schema.
  const named = new Set<string>();
  const report = (path: string, message: string): void => {
    if (named.has(path)) return;
    named.add(path);
    issues.push({ path, message: prefix === '' ? message : withInstancePrefix(message, prefix, vocabulary) });
  };
  const descriptor = registry.find(port, driver);
  if (descriptor === undefined) {
    report(selector, `must be one of ${registry.drivers(port).join(', ')}`);
    // The port's own variables are still checked, as its in-memory driver checks them, so that
    // one run names every bad variable, not the driver alone.
    const standIn = registry.find(port, ports[port].inMemoryDriver);
    if (standIn !== undefined)
      optionsFrom(env, name, port, portVariables(port), standIn, report, true, sources);
    return undefined;
  }
  const variables = { ...portVariables(port), ...descriptor.env };
  const data = optionsFrom(env, name, port, variables, descriptor, report, false, sources);
  const missing = missingPackages(descriptor.packages ?? []);
  if (missing.length > 0) report(selector, missingPackagesMessage(driver, missing));
  if (data === undefined || missing.length > 0) return undefined;
  const readPrefix = descriptor.environmentOption === undefined ? undefined : data.prefix;
  return {
    options: { driver, ...data },
    readPrefix: typeof readPrefix === 'string' ? readPrefix : undefined,
  };
}

/**
 * The options `variables` give, checked by the descriptor's schema, each issue reported on the
 * variable behind its option; undefined when any is bad. With `portOnly`, issues on options no
 * variable sets (a stand-in driver's required options) are left out.
 */
function optionsFrom(
  env: Env,
  name: string,
  port: PortName,
  variables: Readonly<Record<string, EnvVariable>>,
  descriptor: AdapterDescriptor,
  report: (path: string, message: string) => void,
  portOnly: boolean,
  sources: ReadonlyMap<string, SecretSource>,
): Options | undefined {
  const { driver } = descriptor;
  const prefix = variablePrefix(name);
  const selector = driverVariable(port, name);
  const input: Options = name === 'default' ? {} : { id: `${ports[port].idPrefix}:${name}` };
  const optionVariables: Record<string, string> = {};
  let bad = false;
  for (const [variable, spec] of Object.entries(variables)) {
    const fullName = prefix + variable;
    optionVariables[spec.option] = fullName;
    const raw = env[fullName];
    if (raw === undefined || raw === '') {
      if (spec.required && !portOnly) {
        report(fullName, `is required when ${selector}=${driver}`);
        bad = true;
      }
      continue;
    }
    const value = envValue(raw, spec, sources.get(fullName), (message) => {
      report(fullName, message);
      bad = true;
    });
    if (value !== undefined) setPath(input, spec.option, value);
  }
  const result = safeParsePlain(descriptor.options, input);
  if (result.success) return bad ? undefined : (result.data as Options);
  for (const issue of result.error.issues) {
    const path = issue.path.map(String);
    // Named by the variable behind the option, or behind the nearest option above it.
    let variable: string | undefined;
    for (let depth = path.length; depth > 0 && variable === undefined; depth--)
      variable = optionVariables[path.slice(0, depth).join('.')];
    if (variable === undefined && portOnly) continue;
    // One issue per variable: a list such as KAFKA_BROKERS may fail in several places.
    report(variable ?? `${selector}=${driver}: ${path.join('.')}`, issue.message);
  }
  return undefined;
}

/**
 * A schema's message as a named instance spells its variables: `REDIS_CLUSTER_NODES` in
 * "unless cluster.nodes (REDIS_CLUSTER_NODES) …" is `SESSIONS_REDIS_CLUSTER_NODES` for `sessions`.
 */
function withInstancePrefix(message: string, prefix: string, vocabulary: Vocabulary): string {
  return message.replaceAll(/(?<![A-Z0-9_])[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?![A-Z0-9_])/g, (word) =>
    vocabulary.known.has(word) ? prefix + word : word,
  );
}

function envValue(
  raw: string,
  spec: EnvVariable,
  source: SecretSource | undefined,
  invalid: (message: string) => void,
): unknown {
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
      // A reference stays one: the adapter reads it again when its backend refuses the value.
      return source === undefined ? new Redacted(raw) : new RotatingSecret(source.name, raw, source.read);
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

/** The default secret store, built only to read references; its own variables are read as given. */
async function secretStoreFromEnv(
  env: Env,
  registry: AdapterRegistry,
  vocabulary: Vocabulary,
  issues: ConfigIssue[],
  runtime: Runtime,
): Promise<SecretStore | undefined> {
  const built = instanceFrom(env, registry, vocabulary, 'secrets', 'default', [], issues);
  if (built === undefined) return undefined;
  const { driver, ...rest } = built.options;
  const descriptor = registry.find('secrets', String(driver))!;
  if (descriptor.environmentOption !== undefined) rest[descriptor.environmentOption] = env;
  return (await createAdapter(descriptor, rest, runtime, {
    subject,
    path: driverVariable('secrets', 'default'),
  })) as SecretStore;
}
