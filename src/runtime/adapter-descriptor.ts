import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ConfigError } from '../ports/errors.ts';
import type { Broker } from '../ports/broker.ts';
import type { Cache } from '../ports/cache.ts';
import type { Component, OperationOptions } from '../ports/component.ts';
import type { DocumentStore } from '../ports/document-store.ts';
import type { Executor } from '../ports/executor.ts';
import type { LlmClient } from '../ports/llm-client.ts';
import type { SecretStore } from '../ports/secret-store.ts';
import type { SqlDatabase } from '../ports/sql-database.ts';
import type { TimeSeries } from '../ports/time-series.ts';
import type { Runtime } from './runtime.ts';

/** What each port key of the composition root holds. */
export interface PortTypes {
  cache: Cache;
  broker: Broker;
  documents: DocumentStore;
  timeSeries: TimeSeries;
  sql: SqlDatabase;
  secrets: SecretStore;
  llm: LlmClient;
  executor: Executor;
}
export type PortName = keyof PortTypes;

/**
 * How an environment variable's text becomes an option value: `integer` and `boolean`
 * (`true`/`false`) are parsed, `list` is split at commas, `secret` is wrapped in `Redacted`,
 * `file` names a file whose text is the value.
 */
export type EnvValueKind = 'string' | 'integer' | 'boolean' | 'list' | 'secret' | 'file';

export interface EnvVariable {
  /** The option it sets, dotted for a nested one: `sasl.password`. */
  readonly option: string;
  /** Default `string`. */
  readonly kind?: EnvValueKind;
  /** Reported as missing, by name, when the driver is chosen and the variable is unset. */
  readonly required?: boolean;
  /** One line for the README's table. */
  readonly description: string;
}

/**
 * One backend's adapter for one port: everything the composition root needs to build it from
 * typed config or the environment. A backend folder declares one per port it serves; an
 * application or another package declares its own the same way and passes it to `loadConfig`
 * and `createInfrastructure`.
 */
export interface AdapterDescriptor<P extends PortName = PortName> {
  readonly port: P;
  /** The value of `<PORT>_DRIVER` that selects it: `redis`, `kafka`, … */
  readonly driver: string;
  /** Checks the options built from the environment; the factory checks typed options itself. */
  readonly options: z.ZodType;
  /** Variables of the instance named `default`, by name; another instance's get `<NAME>_` in front. */
  readonly env: Readonly<Record<string, EnvVariable>>;
  /**
   * An option that receives the whole environment `loadConfig` read (the env secret store's).
   * Variables that start with such an instance's `prefix` option are its to read: `loadConfig`
   * never reports them as unknown.
   */
  readonly environmentOption?: string;
  /**
   * The npm packages `create` imports: the driver's SDK, an optional peer dependency of berth's
   * (`package.json` gives the version range). One that is not installed makes building the
   * adapter fail with a `ConfigError` that says what to install, not Node's `Cannot find package`.
   */
  readonly packages?: readonly string[];
  /** Loads the driver's SDK only when called: SDKs are optional peer dependencies. */
  create(options: Record<string, unknown>, runtime: Runtime): Promise<PortTypes[P]>;
}

/** Typed identity: checks a descriptor where it is written. */
export function defineAdapter<P extends PortName>(descriptor: AdapterDescriptor<P>): AdapterDescriptor<P> {
  return descriptor;
}

/** A component with startup work (indexes, topics, migrations), run by `infra.start()` in order. */
export interface StartableComponent extends Pick<Component, 'id' | 'health' | 'close'> {
  start?(options?: OperationOptions): Promise<void>;
}

/** Where a `ConfigError` about building an adapter points: `BROKER_DRIVER`, or `driver` of typed config. */
export interface AdapterSource {
  /** The error's subject: `configuration from the environment`, `broker "default"`. */
  readonly subject: string;
  readonly path: string;
}

/**
 * `descriptor.create`, with a package of `descriptor.packages` that is not installed reported as
 * a `ConfigError` naming `source`, the driver and the `npm install` to run. Any other error,
 * a missing package that is not the descriptor's (a dependency of the SDK's) included, is thrown
 * as it is.
 */
export async function createAdapter<P extends PortName>(
  descriptor: AdapterDescriptor<P>,
  options: Record<string, unknown>,
  runtime: Runtime,
  source: AdapterSource,
): Promise<PortTypes[P]> {
  try {
    return await descriptor.create(options, runtime);
  } catch (error) {
    const named = missingPackageOf(error);
    const packages = descriptor.packages ?? [];
    if (named === undefined || !packages.includes(named)) throw error;
    const missing = [...new Set([named, ...missingPackages(packages)])].sort();
    const configError = new ConfigError(source.subject, [
      { path: source.path, message: missingPackagesMessage(descriptor.driver, missing) },
    ]);
    // Kept as the cause, as Node reported it, without making it part of the message.
    Object.defineProperty(configError, 'cause', { value: error, enumerable: false, writable: true });
    throw configError;
  }
}

const moduleNotFound = new Set(['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND']);

/** The package a module-not-found error says it could not find (`kafkajs`, `@azure/identity`), if any. */
export function missingPackageOf(error: unknown): string | undefined {
  if (!(error instanceof Error) || !moduleNotFound.has((error as NodeJS.ErrnoException).code ?? ''))
    return undefined;
  // ESM: "Cannot find package 'x' imported from …"; CommonJS: "Cannot find module 'x'". A path
  // ("Cannot find module '/…/node_modules/x/lib.js'") is a broken install, not a missing package.
  const specifier = /^Cannot find (?:package|module) '([^']+)'/.exec(error.message)?.[1];
  if (specifier === undefined || specifier.startsWith('.') || specifier.startsWith('/')) return undefined;
  if (/^[a-z]+:/i.test(specifier)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The packages of `packages` that cannot be resolved from berth, as the adapters import them. */
export function missingPackages(packages: readonly string[]): string[] {
  return packages.filter((name) => {
    try {
      import.meta.resolve(name);
      return false;
    } catch (error) {
      return missingPackageOf(error) === name;
    }
  });
}

/** `kafka needs kafkajs, which is not installed: npm install kafkajs@"^2.2.4"`. */
export function missingPackagesMessage(driver: string, missing: readonly string[]): string {
  const names =
    missing.length === 1 ? missing[0] : `${missing.slice(0, -1).join(', ')} and ${missing.at(-1)}`;
  const verb = missing.length === 1 ? 'is' : 'are';
  return `${driver} needs ${names}, which ${verb} not installed: ${installCommand(missing)}`;
}

/** `npm install kafkajs@"^2.2.4"`, each range berth's peerDependencies give (none for others' packages). */
export function installCommand(packages: readonly string[]): string {
  const ranges = peerDependencies();
  return `npm install ${packages.map((name) => (ranges[name] ? `${name}@"${ranges[name]}"` : name)).join(' ')}`;
}

let peers: Readonly<Record<string, string>> | undefined;

/**
 * berth's own peerDependencies, the one place their version ranges are written: read from its
 * package.json (shipped in the package, two folders up from this file in `src/` and in `dist/`)
 * the first time an error needs one. Empty if it cannot be read.
 */
export function peerDependencies(): Readonly<Record<string, string>> {
  if (peers !== undefined) return peers;
  try {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      name?: string;
      peerDependencies?: Record<string, string>;
    };
    peers = manifest.name === 'berth' ? (manifest.peerDependencies ?? {}) : {};
  } catch {
    peers = {};
  }
  return peers;
}
