// Rewrites the README's generated tables from the adapters' descriptors (and package.json's
// peerDependencies): the environment variables, and what to install for each driver.
//   npm run docs:env
// test/unit/env-table.test.ts fails while a table in the README differs from what this writes.
import fs from 'node:fs';
import path from 'node:path';
import { format, resolveConfig } from 'prettier';
import { environmentTable, packagesTable } from '../src/config/env-table.ts';

export const readmePath = path.join(import.meta.dirname, '..', 'README.md');
export const tableStart = '<!-- env-table:start (npm run docs:env writes it) -->';
export const tableEnd = '<!-- env-table:end -->';
export const packagesStart = '<!-- driver-packages:start (npm run docs:env writes it) -->';
export const packagesEnd = '<!-- driver-packages:end -->';

/** `text` with what lies between `start` and `end` replaced by `table`; undefined without the markers. */
function withSection(text: string, start: string, end: string, table: string): string | undefined {
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) return undefined;
  return `${text.slice(0, from + start.length)}\n\n${table}\n\n${text.slice(to)}`;
}

/**
 * The README with its generated tables replaced by the ones the descriptors give, formatted as
 * prettier would. The packages table, when the README has no place for it yet, goes right after
 * the variables' table; moved elsewhere with its markers, it is rewritten where it is.
 */
export async function readmeWithTable(readme: string): Promise<string> {
  let text = withSection(readme, tableStart, tableEnd, environmentTable());
  if (text === undefined) throw new Error(`README.md has no ${tableStart} … ${tableEnd} markers`);
  if (!text.includes(packagesStart)) {
    const at = text.indexOf(tableEnd) + tableEnd.length;
    text = `${text.slice(0, at)}\n\n${packagesStart}\n${packagesEnd}${text.slice(at)}`;
  }
  text = withSection(text, packagesStart, packagesEnd, packagesTable());
  if (text === undefined) throw new Error(`README.md has ${packagesStart} without ${packagesEnd} after it`);
  return format(text, { ...(await resolveConfig(readmePath)), parser: 'markdown' });
}

if (import.meta.filename === process.argv[1]) {
  fs.writeFileSync(readmePath, await readmeWithTable(fs.readFileSync(readmePath, 'utf8')));
}
