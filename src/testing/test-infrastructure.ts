import { Registry } from 'prom-client';
import { ConfigError } from '../ports/errors.ts';
import type { PortName, PortTypes } from '../runtime/adapter-descriptor.ts';
import { createLogger, createRuntime, type Runtime } from '../runtime/runtime.ts';
import {
  createInfrastructure,
  type Infrastructure,
  type InfrastructureOptions,
} from '../config/infrastructure.ts';
import { portNames, ports, type InfrastructureConfig } from '../config/ports.ts';

export interface TestInfrastructureOptions extends Omit<InfrastructureOptions, 'provided'> {
  /**
   * The ports to build, each on its memory adapter: `{ ports: ['cache', 'broker'] }`; reading
   * another (`infra.sql`) throws a ConfigError, as `has()` says. A port given in `replace` or
   * `config` is built too. SQL listed here is PGlite started by `infra.start()`.
   *
   * Default: every port, SQL on the embedded database with `loadOnStart: false`: PGlite loads on
   * the first statement rather than in `start()`, so a test that uses no SQL never loads
   * `@electric-sql/pglite` (nor needs it installed) nor waits the seconds it takes to start.
   */
  ports?: readonly PortName[];
  /** Real (or other) adapters used instead of the memory ones; closed with the rest. */
  replace?: Partial<PortTypes>;
  /** Default: logs dropped, metrics in a registry of their own. */
  runtime?: Runtime;
  /** Options of the memory adapters, by port: `{ cache: { maxEntries: 10 } }`. SQL given here is started by `start()`. */
  config?: InfrastructureConfig;
}

/**
 * The ports a test asks for (every one by default) on their memory adapters in one call, any of
 * them replaced by a real one: the composition an application's tests use in place of
 * `createInfrastructure(await loadConfig())`. See `ports` for when PGlite starts.
 */
export async function createTestInfrastructure(
  options: TestInfrastructureOptions = {},
): Promise<Infrastructure> {
  const { ports: asked, replace, runtime, config, ...rest } = options;
  const built = asked === undefined ? portNames : checkPorts(asked);
  const memory: Record<string, unknown> = Object.fromEntries(
    built.map((port: PortName) => [port, { driver: ports[port].inMemoryDriver }]),
  );
  if (asked === undefined) memory.sql = { driver: ports.sql.inMemoryDriver, loadOnStart: false };
  return createInfrastructure(
    { ...memory, ...config },
    runtime ?? createRuntime({ logger: createLogger({ level: 'silent' }), registry: new Registry() }),
    { ...rest, ...(replace === undefined ? {} : { provided: replace }) },
  );
}

function checkPorts(asked: unknown): readonly PortName[] {
  const known: readonly unknown[] = portNames;
  if (!Array.isArray(asked)) {
    throw new ConfigError('test infrastructure options', [
      { path: 'ports', message: `must be an array of ${portNames.join(', ')}` },
    ]);
  }
  const issues = (asked as readonly unknown[]).flatMap((port, index) =>
    known.includes(port)
      ? []
      : [{ path: `ports[${index}]`, message: `must be one of ${portNames.join(', ')}` }],
  );
  if (issues.length > 0) throw new ConfigError('test infrastructure options', issues);
  return asked as readonly PortName[];
}
