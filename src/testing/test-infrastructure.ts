import { Registry } from 'prom-client';
import type { PortName, PortTypes } from '../runtime/adapter-descriptor.ts';
import { createLogger, createRuntime, type Runtime } from '../runtime/runtime.ts';
import {
  createInfrastructure,
  type Infrastructure,
  type InfrastructureOptions,
} from '../composition/infrastructure.ts';
import { portNames, ports, type InfrastructureConfig } from '../composition/ports.ts';

export interface TestInfrastructureOptions extends Omit<InfrastructureOptions, 'provided'> {
  /** Real (or other) adapters used instead of the memory ones; closed with the rest. */
  replace?: Partial<PortTypes>;
  /** Default: logs dropped, metrics in a registry of their own. */
  runtime?: Runtime;
  /** Options of the memory adapters, by port: `{ cache: { maxEntries: 10 } }`. */
  config?: InfrastructureConfig;
}

/**
 * Every port on its memory adapter in one call, any of them replaced by a real one: the
 * composition an application's tests use in place of `createInfrastructure(await loadConfig())`.
 */
export function createTestInfrastructure(options: TestInfrastructureOptions = {}): Promise<Infrastructure> {
  const { replace, runtime, config, ...rest } = options;
  const memory = Object.fromEntries(
    portNames.map((port: PortName) => [port, { driver: ports[port].inMemoryDriver }]),
  );
  return createInfrastructure(
    { ...memory, ...config },
    runtime ?? createRuntime({ logger: createLogger({ level: 'silent' }), registry: new Registry() }),
    { ...rest, ...(replace === undefined ? {} : { provided: replace }) },
  );
}
