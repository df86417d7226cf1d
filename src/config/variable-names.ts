// How the variables of a port's instances are named: `CACHE_DRIVER`, `SESSIONS_CACHE_DRIVER`.
import type { PortName } from '../runtime/adapter-descriptor.ts';
import { ports } from './ports.ts';

export type Env = Record<string, string | undefined>;

/** The variable that picks the driver of a port's instance: `CACHE_DRIVER`, `SESSIONS_CACHE_DRIVER`. */
export function driverVariable(port: PortName, name: string): string {
  return `${variablePrefix(name)}${ports[port].envPrefix}_DRIVER`;
}

/** `default`, then the names of `<NAME>_<PREFIX>_DRIVER` variables, lower-cased with `-` for `_`. */
export function instanceNames(env: Env, port: PortName): string[] {
  const suffix = `_${ports[port].envPrefix}_DRIVER`;
  const named = Object.keys(env)
    .filter((variable) => variable.endsWith(suffix) && /^[A-Z][A-Z0-9_]*$/.test(variable))
    .map((variable) => variable.slice(0, -suffix.length).toLowerCase().replaceAll('_', '-'))
    .filter((name) => name !== '' && name !== 'default')
    .sort();
  return ['default', ...named];
}

export const variablePrefix = (name: string): string =>
  name === 'default' ? '' : `${name.toUpperCase().replaceAll('-', '_')}_`;
