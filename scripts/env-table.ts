// Rewrites the README's table of environment variables from the adapters' descriptors:
//   npm run docs:env
// test/unit/env-table.test.ts fails while the README's table differs from what this writes.
import fs from 'node:fs';
import path from 'node:path';
import { format, resolveConfig } from 'prettier';
import { environmentTable } from '../src/composition/env-table.ts';

export const readmePath = path.join(import.meta.dirname, '..', 'README.md');
export const tableStart = '<!-- env-table:start (npm run docs:env writes it) -->';
export const tableEnd = '<!-- env-table:end -->';

/** The README with its table replaced by the one the descriptors give, formatted as prettier would. */
export async function readmeWithTable(readme: string): Promise<string> {
  const start = readme.indexOf(tableStart);
  const end = readme.indexOf(tableEnd);
  if (start < 0 || end < start) throw new Error(`README.md has no ${tableStart} … ${tableEnd} markers`);
  const text = `${readme.slice(0, start + tableStart.length)}\n\n${environmentTable()}\n\n${readme.slice(end)}`;
  return format(text, { ...(await resolveConfig(readmePath)), parser: 'markdown' });
}

if (import.meta.filename === process.argv[1]) {
  fs.writeFileSync(readmePath, await readmeWithTable(fs.readFileSync(readmePath, 'utf8')));
}
