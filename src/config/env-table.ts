// The generated tables of the documentation, made from the adapters' descriptors and the port
// table: `npm run docs:env` (scripts/env-table.ts) writes them into README.md and docs/, and
// test/unit/env-table.test.ts fails while one of them differs from what these functions give.
import {
  installCommand,
  type AdapterDescriptor,
  type EnvVariable,
  type PortName,
} from '../runtime/adapter-descriptor.ts';
import { builtinAdapters } from './builtin-adapters.ts';
import { portNames, ports, portVariables } from './ports.ts';

/** Where a generated table links to: a driver's backend page, a port's page (relative links). */
export interface TableLinks {
  /** The page of the backend that serves `descriptor`, e.g. `../backends/redis.md`. */
  readonly backend?: (descriptor: AdapterDescriptor) => string | undefined;
  /** The page of a port, e.g. `../ports/cache.md`. */
  readonly port?: (port: PortName) => string | undefined;
}

/** A `|` in a cell (`^1 || ^2`) would end it. */
const cell = (text: string): string => text.replaceAll('|', '\\|');

/** Prose in a cell: besides `|`, `<vault>` would be read as HTML and `*.sql` as emphasis. */
const prose = (text: string): string => cell(text).replace(/[<*]/g, (char) => `\\${char}`);

const code = (text: string): string => (text === '' ? '' : `\`${cell(text)}\``);

const link = (text: string, target: string | undefined): string =>
  target === undefined ? text : `[${text}](${target})`;

/** What the variable means, with its kind and whether it is required: `… (required, secret)`. */
function meaning(spec: EnvVariable): string {
  const notes = [spec.required ? 'required' : '', spec.kind && spec.kind !== 'string' ? spec.kind : '']
    .filter(Boolean)
    .join(', ');
  return prose(notes ? `${spec.description} (${notes})` : spec.description);
}

const byPortOrder = (a: AdapterDescriptor, b: AdapterDescriptor): number =>
  portNames.indexOf(a.port) - portNames.indexOf(b.port);

/** `one of memory, redis; unset: not built`, each driver linked to its backend's page when known. */
function driverChoice(port: PortName, adapters: readonly AdapterDescriptor[], links: TableLinks): string {
  const drivers = adapters
    .filter((adapter) => adapter.port === port)
    .map((adapter) => link(adapter.driver, links.backend?.(adapter)));
  return `one of ${drivers.join(', ')}; unset: not built`;
}

/**
 * Every variable `loadConfig` reads, one row a variable and a driver, port by port: the port's
 * `<PREFIX>_DRIVER`, the variables of every driver of it (`any`), then each driver's own.
 */
export function environmentTable(
  adapters: readonly AdapterDescriptor[] = builtinAdapters,
  links: TableLinks = {},
): string {
  const rows = ['| variable | port | driver | sets | meaning |', '|---|---|---|---|---|'];
  for (const port of portNames) {
    const prefix = ports[port].envPrefix;
    rows.push(`| \`${prefix}_DRIVER\` | ${port} | | \`driver\` | ${driverChoice(port, adapters, links)} |`);
    const sources: [string, Readonly<Record<string, EnvVariable>>][] = [
      ['any', portVariables(port)],
      ...adapters
        .filter((candidate) => candidate.port === port)
        .map((adapter): [string, Readonly<Record<string, EnvVariable>>] => [adapter.driver, adapter.env]),
    ];
    for (const [driver, variables] of sources)
      for (const [variable, spec] of Object.entries(variables))
        rows.push(`| \`${variable}\` | ${port} | ${driver} | ${code(spec.option)} | ${meaning(spec)} |`);
  }
  return rows.join('\n');
}

/**
 * The variables of one port that do not depend on its driver: `<PREFIX>_DRIVER` (its drivers
 * linked to their backends' pages), the deadline and budget of a call, and the port's own.
 */
export function portEnvironmentTable(
  port: PortName,
  adapters: readonly AdapterDescriptor[] = builtinAdapters,
  links: TableLinks = {},
): string {
  const rows = ['| variable | sets | meaning |', '|---|---|---|'];
  rows.push(`| \`${ports[port].envPrefix}_DRIVER\` | \`driver\` | ${driverChoice(port, adapters, links)} |`);
  for (const [variable, spec] of Object.entries(portVariables(port)))
    rows.push(`| \`${variable}\` | ${code(spec.option)} | ${meaning(spec)} |`);
  return rows.join('\n');
}

/**
 * The variables of one backend's adapters (`descriptors`, those of one folder of `src/adapters`):
 * for each, the `<PREFIX>_DRIVER` value that picks it, then its own variables. A variable two of
 * them read alike (`REDIS_URL` for the cache and the broker) is one row naming both. Below the
 * table, links to the pages of its ports, whose tables hold the variables every driver of a port
 * reads (deadline, budget, …).
 */
export function backendEnvironmentTable(
  descriptors: readonly AdapterDescriptor[],
  links: TableLinks = {},
): string {
  const sorted = [...descriptors].sort(byPortOrder);
  const rows = ['| variable | port | driver | sets | meaning |', '|---|---|---|---|---|'];
  for (const adapter of sorted) {
    const variable = `${ports[adapter.port].envPrefix}_DRIVER`;
    rows.push(
      `| \`${variable}\` | ${adapter.port} | ${adapter.driver} | \`driver\` | \`${adapter.driver}\` picks this driver |`,
    );
  }
  const merged = new Map<
    string,
    { variable: string; spec: EnvVariable; ports: string[]; drivers: string[] }
  >();
  for (const adapter of sorted) {
    for (const [variable, spec] of Object.entries(adapter.env)) {
      const key = JSON.stringify([variable, spec.option, spec.description, spec.kind, spec.required]);
      const row = merged.get(key) ?? { variable, spec, ports: [], drivers: [] };
      if (!row.ports.includes(adapter.port)) row.ports.push(adapter.port);
      if (!row.drivers.includes(adapter.driver)) row.drivers.push(adapter.driver);
      merged.set(key, row);
    }
  }
  for (const row of merged.values())
    rows.push(
      `| \`${row.variable}\` | ${row.ports.join(', ')} | ${row.drivers.join(', ')} | ${code(row.spec.option)} | ${meaning(row.spec)} |`,
    );
  const served = [...new Set(sorted.map((adapter) => adapter.port))];
  const portLinks = served.map((port) => {
    const target = links.port?.(port);
    return link(`\`${ports[port].envPrefix}_*\``, target && `${target}#environment-variables`);
  });
  const also =
    served.length === 0
      ? ''
      : [
          '',
          '',
          `Every driver of a port also reads the port's own variables (the deadline of one attempt, the`,
          `budget of a call${served.includes('sql') ? ', migrations, the connection queue' : ''}): ${portLinks.join(', ')}.`,
          `Another instance reads each variable with \`<NAME>_\` in front (\`SESSIONS_${ports[served[0]!].envPrefix}_DRIVER\`).`,
        ].join('\n');
  return `${rows.join('\n')}${also}`;
}

/**
 * What to install for each driver: its packages, with the version ranges of berth's
 * peerDependencies. One row a driver, its ports together (`redis`: cache, broker); drivers
 * without a package (memory, env, file, process) have no row.
 */
export function packagesTable(adapters: readonly AdapterDescriptor[] = builtinAdapters): string {
  const rows = ['| driver | ports | install |', '|---|---|---|'];
  const byDriver = new Map<string, { ports: string[]; packages: readonly string[] }>();
  for (const adapter of adapters) {
    const packages = adapter.packages ?? [];
    if (packages.length === 0) continue;
    const key = `${adapter.driver}\0${packages.join(' ')}`;
    const row = byDriver.get(key) ?? { ports: [], packages };
    row.ports.push(adapter.port);
    byDriver.set(key, row);
  }
  for (const [key, { ports: served, packages }] of byDriver)
    rows.push(`| \`${key.split('\0')[0]}\` | ${served.join(', ')} | ${code(installCommand(packages))} |`);
  return rows.join('\n');
}
