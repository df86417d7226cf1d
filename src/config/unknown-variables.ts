// Variables that look like berth's but that nothing reads (`CACHE_DRIVR`): a warning with the
// nearest variable berth does read. What berth reads is derived from the port table and descriptors.
import { nearestName } from '../runtime/options/validate.ts';
import type { AdapterDescriptor } from '../runtime/adapter-descriptor.ts';
import { defaultRuntime, type Runtime } from '../runtime/runtime.ts';
import { portNames, ports, portVariables } from './ports.ts';
import { driverVariable, instanceNames, variablePrefix, type Env } from './variable-names.ts';

/** A variable `loadConfig` found with a prefix berth reads, that no port or driver reads. */
export interface UnknownVariable {
  readonly variable: string;
  /** The variable berth reads that is nearest to it by spelling, if one is near. */
  readonly suggestion?: string | undefined;
}

/** What berth reads, derived from the port table and the descriptors, never listed by hand. */
export interface Vocabulary {
  /** Every variable of the default instance that some port or driver reads. */
  readonly known: ReadonlySet<string>;
  /**
   * The prefixes that mark a variable as meant for berth: each port's (`CACHE_`) and each
   * driver's, the longest start its variables share after their first word (`REDIS_`,
   * `AZURE_KEYVAULT_`: not `AZURE_`, which the Azure SDKs' own variables start with).
   */
  readonly prefixes: readonly string[];
}

export function vocabularyOf(adapters: readonly AdapterDescriptor[]): Vocabulary {
  const known = new Set<string>();
  const prefixes = new Set<string>();
  for (const port of portNames) {
    known.add(driverVariable(port, 'default'));
    for (const variable of Object.keys(portVariables(port))) known.add(variable);
    prefixes.add(`${ports[port].envPrefix}_`);
  }
  const portPrefixes = [...prefixes];
  for (const descriptor of adapters) {
    const byFirstWord = new Map<string, string[]>();
    for (const variable of Object.keys(descriptor.env)) {
      known.add(variable);
      if (portPrefixes.some((prefix) => variable.startsWith(prefix))) continue;
      const first = variable.split('_')[0]!;
      byFirstWord.set(first, [...(byFirstWord.get(first) ?? []), variable]);
    }
    for (const group of byFirstWord.values()) {
      let common = group[0]!;
      for (const variable of group) while (!variable.startsWith(common)) common = common.slice(0, -1);
      const cut = common.lastIndexOf('_');
      if (cut > 0) prefixes.add(common.slice(0, cut + 1));
    }
  }
  return { known, prefixes: [...prefixes] };
}

// Kubernetes service links (`KAFKA_SERVICE_HOST`, `REDIS_PORT_6379_TCP_ADDR`) and Docker links:
// set for every service in the namespace, never meant for berth.
const serviceLink =
  /_(?:SERVICE_HOST|SERVICE_PORT(?:_[A-Z0-9_]+)?|PORT(?:_\d+_(?:TCP|UDP|SCTP)(?:_(?:PROTO|PORT|ADDR))?)?)$/;

/** Variables with a prefix berth reads that nothing reads, each with the nearest known one. */
export function unknownVariables(
  env: Env,
  vocabulary: Vocabulary,
  readPrefixes: readonly string[],
): UnknownVariable[] {
  const { known, prefixes } = vocabulary;
  const hasKnownPrefix = (variable: string): boolean =>
    prefixes.some((prefix) => variable.startsWith(prefix));
  const instancePrefixes = portNames
    .flatMap((port) => instanceNames(env, port).slice(1))
    .map(variablePrefix)
    .sort((a, b) => b.length - a.length);
  const unknown: UnknownVariable[] = [];
  for (const [variable, value] of Object.entries(env)) {
    if (value === undefined || !/^[A-Z][A-Z0-9_]*$/.test(variable)) continue;
    if (readPrefixes.some((prefix) => prefix !== '' && variable.startsWith(prefix))) continue;
    const instance =
      instancePrefixes.find(
        (prefix) => variable.startsWith(prefix) && hasKnownPrefix(variable.slice(prefix.length)),
      ) ?? '';
    const own = variable.slice(instance.length);
    if (!hasKnownPrefix(own) || known.has(own) || serviceLink.test(own)) continue;
    const near = nearestName(own, known);
    unknown.push({ variable, suggestion: near === undefined ? undefined : instance + near });
  }
  return unknown.sort((a, b) => (a.variable < b.variable ? -1 : 1));
}

// Each unknown variable is warned about once per logger, however often loadConfig runs.
const warned = new WeakMap<object, Set<string>>();

export function reportUnknownVariables(
  unknown: readonly UnknownVariable[],
  options: {
    readonly onUnknownVariables?: ((unknown: readonly UnknownVariable[]) => void) | undefined;
    readonly runtime?: Runtime | undefined;
  },
): void {
  if (options.onUnknownVariables !== undefined) {
    if (unknown.length > 0) options.onUnknownVariables(unknown);
    return;
  }
  const logger = (options.runtime ?? defaultRuntime()).logger;
  const seen = warned.get(logger) ?? new Set<string>();
  warned.set(logger, seen);
  const fresh = unknown.filter(({ variable }) => !seen.has(variable));
  if (fresh.length === 0) return;
  for (const { variable } of fresh) seen.add(variable);
  const named = fresh.map(({ variable, suggestion }) =>
    suggestion === undefined ? variable : `${variable} (did you mean ${suggestion}?)`,
  );
  const message =
    fresh.length === 1
      ? `${fresh[0]!.variable} is not a variable berth reads${fresh[0]!.suggestion === undefined ? '' : `; did you mean ${fresh[0]!.suggestion}?`}`
      : `${fresh.length} variables berth does not read: ${named.join(', ')}`;
  logger.warn({ component: 'load-config', variables: fresh.map(({ variable }) => variable) }, message);
}
