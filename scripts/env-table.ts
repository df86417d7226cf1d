// Rewrites the generated blocks of README.md and docs/**/*.md from the adapters' descriptors, the
// port table and package.json's peerDependencies:
//   npm run docs:env
// A block sits between a start marker and its end marker; the start marker says what it holds:
//   <!-- env-table:start (npm run docs:env writes it) -->                 every variable
//   <!-- env-table:start port cache (npm run docs:env writes it) -->      a port's own variables
//   <!-- env-table:start backend redis (npm run docs:env writes it) -->   a backend folder's variables
//   <!-- driver-packages:start (npm run docs:env writes it) -->           what to install, per driver
//   <!-- driver-packages:start backend redis (npm run docs:env writes it) -->
// each closed by `<!-- env-table:end -->` or `<!-- driver-packages:end -->`. A backend is a folder
// of src/adapters (its descriptors.ts); its page is docs/backends/<folder>.md. The page of a port
// is the one holding its `port` block. test/unit/env-table.test.ts fails while a block differs
// from what this writes.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { builtinAdapters } from '../src/config/builtin-adapters.ts';
import {
  backendEnvironmentTable,
  environmentTable,
  packagesTable,
  portEnvironmentTable,
  type TableLinks,
} from '../src/config/env-table.ts';
import { portNames } from '../src/config/ports.ts';
import type { AdapterDescriptor, PortName } from '../src/runtime/adapter-descriptor.ts';

export const repoRoot = path.join(import.meta.dirname, '..');
export const readmePath = path.join(repoRoot, 'README.md');
export const docsDir = path.join(repoRoot, 'docs');
export const adaptersDir = path.join(repoRoot, 'src', 'adapters');

export type BlockKind = 'env-table' | 'driver-packages';

/** One generated block of a Markdown file: what its start marker names, and what it holds now. */
export interface GeneratedBlock {
  readonly kind: BlockKind;
  /** `''` (everything), `port <port>` or `backend <folder>`. */
  readonly scope: string;
  readonly content: string;
  /** Where the content starts and ends in the file's text. */
  readonly from: number;
  readonly to: number;
}

const startMarker =
  /<!-- (env-table|driver-packages):start(?: ([^()]*?))? \(npm run docs:env writes it\) -->/g;

/** The start marker of a block, as a page writes it. */
export const startOf = (kind: BlockKind, scope = ''): string =>
  `<!-- ${kind}:start ${scope ? `${scope} ` : ''}(npm run docs:env writes it) -->`;
export const endOf = (kind: BlockKind): string => `<!-- ${kind}:end -->`;

/** The generated blocks of a Markdown text, in order; throws when a start marker has no end. */
export function blocksOf(text: string, file = 'the text'): GeneratedBlock[] {
  const found: GeneratedBlock[] = [];
  for (const match of text.matchAll(startMarker)) {
    const kind = match[1] as BlockKind;
    const from = match.index + match[0].length;
    const to = text.indexOf(endOf(kind), from);
    if (to < 0) throw new Error(`${file}: ${match[0]} has no ${endOf(kind)} after it`);
    found.push({ kind, scope: (match[2] ?? '').trim(), content: text.slice(from, to), from, to });
  }
  return found;
}

/** README.md and every Markdown file under docs/. */
export function markdownFiles(): string[] {
  const files = [readmePath];
  const walk = (folder: string): void => {
    if (!fs.existsSync(folder)) return;
    for (const entry of fs
      .readdirSync(folder, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.md')) files.push(full);
    }
  };
  walk(docsDir);
  return files;
}

/** The folders of src/adapters that are backends: every one but `shared` (helpers several use). */
export function backendFolders(): string[] {
  return fs
    .readdirSync(adaptersDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== 'shared')
    .map((entry) => entry.name)
    .sort();
}

/** The documentation page of a backend folder. */
export const backendPage = (backend: string): string => path.join(docsDir, 'backends', `${backend}.md`);

const isDescriptor = (value: unknown): value is AdapterDescriptor =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as AdapterDescriptor).driver === 'string' &&
  portNames.includes((value as AdapterDescriptor).port) &&
  typeof (value as AdapterDescriptor).create === 'function';

/** Each backend folder's descriptors: what its descriptors.ts exports (none without the file). */
export async function backendDescriptors(): Promise<Map<string, AdapterDescriptor[]>> {
  const byBackend = new Map<string, AdapterDescriptor[]>();
  for (const backend of backendFolders()) {
    const file = path.join(adaptersDir, backend, 'descriptors.ts');
    const exported = fs.existsSync(file)
      ? ((await import(pathToFileURL(file).href)) as Record<string, unknown>)
      : {};
    byBackend.set(backend, Object.values(exported).filter(isDescriptor));
  }
  return byBackend;
}

interface DocsContext {
  readonly backends: ReadonlyMap<string, readonly AdapterDescriptor[]>;
  /** The file that holds each port's `port` block. */
  readonly portPages: ReadonlyMap<PortName, string>;
}

async function docsContext(texts: ReadonlyMap<string, string>): Promise<DocsContext> {
  const portPages = new Map<PortName, string>();
  for (const [file, text] of texts)
    for (const block of blocksOf(text, file)) {
      const [what, name] = block.scope.split(/\s+/);
      if (block.kind === 'env-table' && what === 'port' && !portPages.has(name as PortName))
        portPages.set(name as PortName, file);
    }
  return { backends: await backendDescriptors(), portPages };
}

/** `target` as a link from `file`: `../backends/redis.md`, `docs/ports/cache.md`. */
const relativeLink = (file: string, target: string): string =>
  path.relative(path.dirname(file), target).split(path.sep).join('/');

function linksFrom(file: string, context: DocsContext): TableLinks {
  return {
    backend: (descriptor) => {
      for (const [backend, descriptors] of context.backends)
        if (
          descriptors.some((d) => d.port === descriptor.port && d.driver === descriptor.driver) &&
          fs.existsSync(backendPage(backend))
        )
          return relativeLink(file, backendPage(backend));
      return undefined;
    },
    port: (port) => {
      const page = context.portPages.get(port);
      return page === undefined ? undefined : relativeLink(file, page);
    },
  };
}

/** What a block should hold, before formatting. */
function contentOf(block: GeneratedBlock, file: string, context: DocsContext): string {
  const links = linksFrom(file, context);
  const where = `${path.relative(repoRoot, file)}: ${startOf(block.kind, block.scope)}`;
  const [what, name, ...rest] = block.scope === '' ? [] : block.scope.split(/\s+/);
  if (rest.length > 0) throw new Error(`${where}: a scope is 'port <port>' or 'backend <folder>'`);
  if (what === undefined)
    return block.kind === 'env-table' ? environmentTable(builtinAdapters, links) : packagesTable();
  if (what === 'backend') {
    const descriptors = context.backends.get(name ?? '');
    if (descriptors === undefined)
      throw new Error(
        `${where}: no backend folder src/adapters/${name ?? ''} (${backendFolders().join(', ')})`,
      );
    return block.kind === 'env-table'
      ? backendEnvironmentTable(descriptors, links)
      : packagesTable(descriptors);
  }
  if (what === 'port' && block.kind === 'env-table') {
    if (!portNames.includes(name as PortName))
      throw new Error(`${where}: no port ${name ?? ''} (${portNames.join(', ')})`);
    return portEnvironmentTable(name as PortName, builtinAdapters, links);
  }
  throw new Error(`${where}: unknown scope`);
}

/** `text` with each generated block holding what the descriptors give, formatted as prettier would. */
async function withBlocks(file: string, text: string, context: DocsContext): Promise<string> {
  const options = { ...(await resolveConfig(file)), parser: 'markdown' };
  let result = '';
  let at = 0;
  for (const block of blocksOf(text, path.relative(repoRoot, file))) {
    const formatted = (await format(contentOf(block, file, context), options)).trimEnd();
    result += `${text.slice(at, block.from)}\n\n${formatted}\n\n`;
    at = block.to;
  }
  return result + text.slice(at);
}

/** Each Markdown file of README.md and docs/ that has generated blocks: its text now, and as it should be. */
export async function generatedDocs(): Promise<{ file: string; text: string; expected: string }[]> {
  const texts = new Map(markdownFiles().map((file) => [file, fs.readFileSync(file, 'utf8')]));
  const context = await docsContext(texts);
  const result: { file: string; text: string; expected: string }[] = [];
  for (const [file, text] of texts) {
    if (blocksOf(text, file).length === 0) continue;
    result.push({ file, text, expected: await withBlocks(file, text, context) });
  }
  return result;
}

if (import.meta.filename === process.argv[1]) {
  for (const { file, text, expected } of await generatedDocs()) {
    if (text === expected) continue;
    fs.writeFileSync(file, expected);
    console.log(`rewrote ${path.relative(repoRoot, file)}`);
  }
}
