// berth as a user gets it: `npm pack`, then the tarball installed into an empty app with only what
// npm installs for a user (dependencies, no optional peer), apps of that kind run with plain Node.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const repoRoot = path.resolve(import.meta.dirname, '../..');

export interface Manifest {
  version: string;
  engines: { node: string };
  exports: Record<string, string | { types: string; default: string }>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  devDependencies: Record<string, string>;
  files: string[];
}

export async function readManifest(): Promise<Manifest> {
  return JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as Manifest;
}

const npmFlags = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

/** Packs the repository as `npm pack` does (its prepack builds dist/) into `folder`; the tarball's path. */
export async function packBerth(folder: string): Promise<string> {
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', folder, ...npmFlags], {
    cwd: repoRoot,
    maxBuffer: 64 * 1024 * 1024,
  });
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as [{ filename: string }];
  return path.join(folder, packed.filename);
}

/** An empty ESM app with the tarball (and `extra` packages) installed; its folder. */
export async function installApp(
  folder: string,
  tarball: string,
  extra: readonly string[] = [],
): Promise<string> {
  await mkdir(folder, { recursive: true });
  await writeFile(
    path.join(folder, 'package.json'),
    JSON.stringify({ name: 'berth-user-app', private: true, type: 'module' }, null, 2),
  );
  await run('npm', ['install', tarball, ...extra, ...npmFlags], { cwd: folder, maxBuffer: 64 * 1024 * 1024 });
  return folder;
}

/** A copy of an installed app with more packages added; cheaper than installing berth again. */
export async function extendApp(base: string, folder: string, extra: readonly string[]): Promise<string> {
  await cp(base, folder, { recursive: true, verbatimSymlinks: true });
  await run('npm', ['install', '--no-save', ...extra, ...npmFlags], {
    cwd: folder,
    maxBuffer: 64 * 1024 * 1024,
  });
  return folder;
}

export interface NodeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a script (ESM, or TypeScript that Node strips) in the app's folder with `node`. */
export async function runInApp(
  folder: string,
  file: string,
  source: string,
  options: { env?: Record<string, string>; node?: string } = {},
): Promise<NodeRun> {
  await writeFile(path.join(folder, file), source);
  try {
    const { stdout, stderr } = await run(options.node ?? process.execPath, [file], {
      cwd: folder,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    return {
      code: typeof failed.code === 'number' ? failed.code : null,
      stdout: failed.stdout ?? '',
      stderr: failed.stderr ?? String(error),
    };
  }
}

/** The package names a compiled entry imports statically, following its relative imports. */
export async function staticPackageImports(entry: string): Promise<Set<string>> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const pending = [entry];
  // Compiled JS: `import … from '…'`, `export … from '…'`, `import '…'`; dynamic `import()` is lazy.
  const specifier =
    /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]/gm;
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = await readFile(file, 'utf8');
    for (const match of source.matchAll(specifier)) {
      const spec = (match[1] ?? match[2]) as string;
      if (spec.startsWith('.')) pending.push(path.resolve(path.dirname(file), spec));
      else if (!spec.startsWith('node:'))
        packages.add(
          spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string),
        );
    }
  }
  return packages;
}

export async function makeTempFolder(
  prefix: string,
): Promise<{ folder: string; remove: () => Promise<void> }> {
  const folder = await mkdtemp(path.join(tmpdir(), prefix));
  return { folder, remove: () => rm(folder, { recursive: true, force: true }) };
}

/** Files in a folder, recursively, as paths relative to it. */
export async function listFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(folder, path.join(entry.parentPath, entry.name)));
}

/** The packages `names` bring into an installed app: themselves and their dependencies, transitively. */
export async function dependencyClosure(app: string, names: readonly string[]): Promise<Set<string>> {
  const closure = new Set<string>();
  const pending = [...names];
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (closure.has(name)) continue;
    closure.add(name);
    const own = JSON.parse(await readFile(path.join(app, 'node_modules', name, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    pending.push(...Object.keys(own.dependencies ?? {}));
  }
  return closure;
}
