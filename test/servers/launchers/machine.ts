// Facts about this machine a launcher asks for: executables on PATH, the cache folder, root.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Absolute path of an executable on PATH, else undefined. */
export function which(command: string): string | undefined {
  if (command.includes('/')) return isExecutable(command) ? command : undefined;
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export function cacheHome(): string {
  return process.env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache');
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}
