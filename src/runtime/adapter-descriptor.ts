import type { z } from 'zod';
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
  /** An option that receives the whole environment `loadConfig` read (the env secret store's). */
  readonly environmentOption?: string;
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
