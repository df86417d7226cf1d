import { installCommand, type AdapterDescriptor, type EnvVariable } from '../runtime/adapter-descriptor.ts';
import { builtinAdapters } from './builtin-adapters.ts';
import { portNames, ports, portVariables } from './ports.ts';

/** The README's table of environment variables, made from the descriptors: one row a variable. */
export function environmentTable(adapters: readonly AdapterDescriptor[] = builtinAdapters): string {
  const rows = ['| variable | port | driver | sets | |', '|---|---|---|---|---|'];
  for (const port of portNames) {
    const prefix = ports[port].envPrefix;
    const drivers = adapters.filter((adapter) => adapter.port === port).map((adapter) => adapter.driver);
    rows.push(`| \`${prefix}_DRIVER\` | ${port} | | | one of ${drivers.join(', ')}; unset: not built |`);
    const sources: [string, Readonly<Record<string, EnvVariable>>][] = [
      ['any', portVariables(port)],
      ...adapters
        .filter((candidate) => candidate.port === port)
        .map((adapter): [string, Readonly<Record<string, EnvVariable>>] => [adapter.driver, adapter.env]),
    ];
    for (const [driver, variables] of sources) {
      for (const [variable, spec] of Object.entries(variables)) {
        const notes = [spec.required ? 'required' : '', spec.kind && spec.kind !== 'string' ? spec.kind : '']
          .filter(Boolean)
          .join(', ');
        const description = notes ? `${spec.description} (${notes})` : spec.description;
        rows.push(`| \`${variable}\` | ${port} | ${driver} | \`${spec.option}\` | ${description} |`);
      }
    }
  }
  return rows.join('\n');
}

/**
 * The README's table of what to install for each driver: its packages, with the version ranges of
 * berth's peerDependencies. One row a driver, its ports together (`redis`: cache, broker).
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
  for (const [key, { ports: served, packages }] of byDriver) {
    // A `|` in a range (`^1 || ^2`) would end the cell.
    const install = installCommand(packages).replaceAll('|', '\\|');
    rows.push(`| \`${key.split('\0')[0]}\` | ${served.join(', ')} | \`${install}\` |`);
  }
  return rows.join('\n');
}
