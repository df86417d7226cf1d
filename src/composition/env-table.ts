import type { AdapterDescriptor } from '../runtime/adapter-descriptor.ts';
import { builtinAdapters } from './builtin-adapters.ts';
import { portNames, ports } from './ports.ts';

/** The README's table of environment variables, made from the descriptors: one row a variable. */
export function environmentTable(adapters: readonly AdapterDescriptor[] = builtinAdapters): string {
  const rows = ['| variable | port | driver | sets | |', '|---|---|---|---|---|'];
  for (const port of portNames) {
    const prefix = ports[port].envPrefix;
    const drivers = adapters.filter((adapter) => adapter.port === port).map((adapter) => adapter.driver);
    rows.push(`| \`${prefix}_DRIVER\` | ${port} | | | one of ${drivers.join(', ')}; unset: not built |`);
    rows.push(
      `| \`${prefix}_TIMEOUT_MS\` | ${port} | any | \`policies.timeoutMs\` | deadline of one attempt |`,
    );
    for (const adapter of adapters.filter((candidate) => candidate.port === port)) {
      for (const [variable, spec] of Object.entries(adapter.env)) {
        const notes = [spec.required ? 'required' : '', spec.kind && spec.kind !== 'string' ? spec.kind : '']
          .filter(Boolean)
          .join(', ');
        const description = notes ? `${spec.description} (${notes})` : spec.description;
        rows.push(`| \`${variable}\` | ${port} | ${adapter.driver} | \`${spec.option}\` | ${description} |`);
      }
    }
  }
  return rows.join('\n');
}
