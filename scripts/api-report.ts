// Writes api/<name>.api.md, API Extractor's report of what one subpath export of package.json
// exposes (berth.api.md for ".", berth-redis.api.md for "./redis", …), read from the declarations
// the build writes to dist/. The exports come from package.json; nothing here lists them.
//   npm run api          builds, then rewrites the reports (and removes one whose export is gone)
//   npm run api:check    (in npm run check, after its build) fails when a report differs from
//                        what dist/ declares, printing the difference and rewriting nothing
import fs from 'node:fs';
import path from 'node:path';
import {
  CompilerState,
  Extractor,
  ExtractorConfig,
  ExtractorLogLevel,
  type ExtractorMessage,
  ExtractorMessageCategory,
  type IConfigFile,
} from '@microsoft/api-extractor';
import { createTwoFilesPatch } from 'diff';

const root = path.join(import.meta.dirname, '..');
export const reportFolder = path.join(root, 'api');
const scratchFolder = path.join(root, 'node_modules', '.cache', 'berth-api-report');
const generatedFolder = path.join(scratchFolder, 'generated');
const reportExtension = '.api.md';

interface PackageJson {
  name: string;
  exports: Record<string, unknown>;
}

export interface EntryPoint {
  /** The subpath as package.json has it: ".", "./redis", … */
  subpath: string;
  /** What a caller imports: "berth", "berth/redis", … */
  specifier: string;
  /** The report's base name: "berth", "berth-redis", … */
  name: string;
  /** The absolute path of the declaration file the export's `types` condition names. */
  types: string;
}

/** The `types` target of an export condition tree, wherever it sits among the conditions. */
function typesOf(target: unknown): string | undefined {
  if (typeof target !== 'object' || target === null) return undefined;
  for (const [condition, value] of Object.entries(target)) {
    if (condition === 'types' && typeof value === 'string') return value;
    const nested = typesOf(value);
    if (nested !== undefined) return nested;
  }
  return undefined;
}

/** Every subpath export of package.json that has declarations; `./package.json` is not code. */
export function entryPoints(pkg: PackageJson): EntryPoint[] {
  return Object.entries(pkg.exports)
    .filter(([subpath]) => subpath !== './package.json')
    .map(([subpath, target]) => {
      const types = typesOf(target);
      if (types === undefined) throw new Error(`package.json exports["${subpath}"] has no "types" condition`);
      const rest = subpath.replace(/^\.\/?/, '');
      return {
        subpath,
        specifier: rest === '' ? pkg.name : `${pkg.name}/${rest}`,
        name: rest === '' ? pkg.name : `${pkg.name}-${rest.replaceAll('/', '-')}`,
        types: path.resolve(root, types),
      };
    });
}

/**
 * Why the declarations of `entry` cannot be trusted to be today's, if they cannot: missing, or
 * older than the source their declaration map names (a src file moved without a build since).
 */
function staleness(entry: EntryPoint): string | undefined {
  const shown = path.relative(root, entry.types);
  if (!fs.existsSync(entry.types)) return `${shown} does not exist`;
  const mapFile = `${entry.types}.map`;
  if (!fs.existsSync(mapFile)) return undefined;
  const { sources } = JSON.parse(fs.readFileSync(mapFile, 'utf8')) as { sources: string[] };
  const built = fs.statSync(entry.types).mtimeMs;
  for (const source of sources) {
    const file = path.resolve(path.dirname(mapFile), source);
    if (!fs.existsSync(file)) return `${shown} was built from ${path.relative(root, file)}, which is gone`;
    if (fs.statSync(file).mtimeMs > built) return `${shown} is older than ${path.relative(root, file)}`;
  }
  return undefined;
}

function extractorConfig(entry: EntryPoint, entries: EntryPoint[]): ExtractorConfig {
  const configObject: IConfigFile = {
    projectFolder: root,
    mainEntryPointFilePath: entry.types,
    // The project's own compiler settings, over the entry points only (not src/, test/, …).
    compiler: {
      overrideTsconfig: {
        extends: './tsconfig.json',
        compilerOptions: { noEmit: true },
        files: entries.map(({ types }) => types),
      },
    },
    apiReport: {
      enabled: true,
      reportFileName: entry.name,
      // API Extractor writes here; the script compares and copies (see normalised()).
      reportFolder: generatedFolder,
      reportTempFolder: path.join(scratchFolder, 'temp'),
      // Types the entry point uses without exporting them (berth's own, reached from a subpath) are
      // part of what a caller sees: listed too, so a change to them shows in review.
      includeForgottenExports: true,
    },
    docModel: { enabled: false },
    dtsRollup: { enabled: false },
    tsdocMetadata: { enabled: false },
    newlineKind: 'lf',
    messages: {
      compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Error } },
      // Printed, never written into a report: API Extractor writes some messages there with the
      // source file and line, and a report must not change when a file moves under src/.
      extractorMessageReporting: {
        default: { logLevel: ExtractorLogLevel.Warning, addToApiReportFile: false },
        // berth marks no release tags: everything an entry point exports is public.
        'ae-missing-release-tag': { logLevel: ExtractorLogLevel.None },
        // Not an error: the type is in the report all the same (includeForgottenExports), declared
        // without `export`, which is how a reader tells it from what the entry point exports.
        'ae-forgotten-export': { logLevel: ExtractorLogLevel.None },
        // About doc comments, not about the surface; the report marks an item "(undocumented)".
        'ae-undocumented': { logLevel: ExtractorLogLevel.None },
        'ae-unresolved-link': { logLevel: ExtractorLogLevel.None },
      },
      // berth's comments are JSDoc, not TSDoc; their syntax is no part of the API.
      tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
    },
  };
  return ExtractorConfig.prepare({
    configObject,
    configObjectFullPath: undefined,
    packageJsonFullPath: path.join(root, 'package.json'),
  });
}

/**
 * API Extractor's report, headed by the import path rather than the package name (every entry
 * point is "berth" to API Extractor), and with every `import type` of its preamble written
 * `import`: the report imports an outside name the way the first declaration file it read did,
 * which changes when files move under src/ although the API does not.
 */
export function normalised(report: string, entry: EntryPoint): string {
  return report
    .replace(/^## API Report File for ".*"$/m, `## API Report File for "${entry.specifier}"`)
    .replace(/^import type /gm, 'import ');
}

function main(): number {
  const check = process.argv.includes('--check');
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as PackageJson;
  const entries = entryPoints(pkg);

  const stale = entries.map(staleness).filter((reason) => reason !== undefined);
  if (stale.length > 0) {
    console.error(`api-report: the declarations in dist/ are not today's:\n  ${stale.join('\n  ')}`);
    console.error('Run `npm run build` first (`npm run api` does).');
    return 1;
  }

  const started = performance.now();
  fs.rmSync(generatedFolder, { recursive: true, force: true });
  fs.mkdirSync(generatedFolder, { recursive: true });
  fs.mkdirSync(reportFolder, { recursive: true });
  const shown = (file: string) => path.relative(root, path.join(reportFolder, file));
  let compilerState: CompilerState | undefined;
  let errors = 0;
  const changed: { entry: EntryPoint; target: string; report: string; patch: string }[] = [];
  for (const entry of entries) {
    const config = extractorConfig(entry, entries);
    // One TypeScript program for every entry point: analysing it is most of the time.
    compilerState ??= CompilerState.create(config, { additionalEntryPoints: entries.map((e) => e.types) });
    const result = Extractor.invoke(config, {
      compilerState,
      localBuild: true,
      messageCallback: (message: ExtractorMessage) => {
        message.handled = true;
        // API Extractor's words on its own files are replaced by the summary below.
        if (message.category === ExtractorMessageCategory.Console) return;
        if (message.logLevel !== ExtractorLogLevel.Warning && message.logLevel !== ExtractorLogLevel.Error) {
          return;
        }
        const text = message.formatMessageWithLocation(`${root}${path.sep}`);
        console.error(`${entry.subpath}: ${message.logLevel}: ${text}`);
      },
    });
    errors += result.errorCount;
    const file = `${entry.name}${reportExtension}`;
    const report = normalised(fs.readFileSync(path.join(generatedFolder, file), 'utf8'), entry);
    const target = path.join(reportFolder, file);
    const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
    if (report === current) continue;
    const patch = createTwoFilesPatch(shown(file), `${shown(file)} (now)`, current, report);
    changed.push({ entry, target, report, patch });
  }

  // A report whose export is gone is out of date too.
  const names = new Set(entries.map(({ name }) => `${name}${reportExtension}`));
  const orphans = fs
    .readdirSync(reportFolder)
    .filter((file) => file.endsWith(reportExtension) && !names.has(file))
    .sort();

  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (errors > 0) {
    console.error(`api-report: ${errors} error(s) above; no report can be trusted until they are fixed`);
    return 1;
  }
  if (!check) {
    for (const { target, report } of changed) {
      fs.writeFileSync(target, report);
      console.log(`api-report: wrote ${path.relative(root, target)}`);
    }
    for (const file of orphans) {
      fs.rmSync(path.join(reportFolder, file));
      console.log(`api-report: removed ${shown(file)} (no such export any more)`);
    }
    const count = changed.length + orphans.length;
    console.log(`api-report: ${entries.length} exports, ${count} report(s) changed (${seconds}s)`);
    return 0;
  }
  if (changed.length === 0 && orphans.length === 0) {
    console.log(`api-report: the ${entries.length} reports in ${shown('')}/ match the exports (${seconds}s)`);
    return 0;
  }
  for (const { patch } of changed) console.error(patch);
  console.error('api-report: the public API differs from its checked-in report:');
  for (const { entry } of changed) {
    console.error(`  ${entry.specifier.padEnd(22)} ${shown(`${entry.name}${reportExtension}`)}`);
  }
  for (const file of orphans) console.error(`  ${'(no such export)'.padEnd(22)} ${shown(file)}`);
  console.error('If the change is meant, run `npm run api` and commit the reports with it.');
  return 1;
}

if (import.meta.main) process.exitCode = main();
