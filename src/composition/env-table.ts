import type { AdapterDescriptor, EnvVariable } from '../runtime/adapter-descriptor.ts';
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
