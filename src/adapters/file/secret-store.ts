import fs from 'node:fs/promises';
import path from 'node:path';
import type { HealthResult } from '../../ports/component.ts';
import type { ErrorClassification } from '../../ports/errors.ts';
import type { SecretStore, SecretStoreAdapter, StoredSecret } from '../../ports/secret-store.ts';
import { parseOptions } from '../../runtime/options/validate.ts';
import { fileSecretStoreOptionsSchema, type FileSecretStoreOptions } from './options.ts';
import { guardSecretStore } from '../../runtime/secrets/guarded-secret-store.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';

// Kubernetes keeps its own entries (`..data`, `..2024_…`) beside the secrets; they start with dots.
const secretFileName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,126}$/;

const errorCode = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;

/**
 * Read-only secrets from a folder, one file each, read at every call so a rotated mount is
 * seen at once (Kubernetes swaps its `..data` link atomically).
 */
class FileSecretStoreAdapter implements SecretStoreAdapter {
  readonly system = 'file';
  readonly #directory: string;
  readonly #trimTrailingNewline: boolean;

  constructor(directory: string, trimTrailingNewline: boolean) {
    this.#directory = path.resolve(directory);
    this.#trimTrailingNewline = trimTrailingNewline;
  }

  async get(name: string, ctx: { signal: AbortSignal }): Promise<StoredSecret | undefined> {
    const file = path.join(this.#directory, name);
    try {
      const [text, stat] = await Promise.all([
        fs.readFile(file, { encoding: 'utf8', signal: ctx.signal }),
        fs.stat(file),
      ]);
      const value = this.#trimTrailingNewline ? text.replace(/\r?\n$/, '') : text;
      return { name, value, updatedAt: stat.mtime };
    } catch (error) {
      if (errorCode(error) !== 'ENOENT' && errorCode(error) !== 'EISDIR') throw error;
      await fs.stat(this.#directory); // a missing folder is an outage, not a missing secret
      return undefined;
    }
  }

  async list(): Promise<string[]> {
    const entries = await fs.readdir(this.#directory, { withFileTypes: true });
    const names: string[] = [];
    for (const entry of entries) {
      if (!secretFileName.test(entry.name)) continue;
      // Kubernetes mounts each key as a link into `..data`: follow links, keep files.
      if (
        entry.isFile() ||
        (entry.isSymbolicLink() && (await isFile(path.join(this.#directory, entry.name))))
      )
        names.push(entry.name);
    }
    return names;
  }

  async probe(): Promise<HealthResult> {
    await fs.access(this.#directory, fs.constants.R_OK | fs.constants.X_OK);
    return { status: 'up', details: { directory: this.#directory } };
  }

  classifyError(error: unknown): ErrorClassification {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR')
      return { reason: 'unavailable', message: `secret folder ${this.#directory} is missing` };
    if (code === 'EACCES' || code === 'EPERM')
      return {
        reason: 'unauthorized',
        retryable: false,
        message: `no permission to read ${this.#directory}`,
      };
    if (code === 'ABORT_ERR') return { reason: 'timeout' };
    return code ? { reason: 'internal', message: `file system error ${code}` } : { reason: 'internal' };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

/** Secrets from a folder of files, as Kubernetes mounts a Secret. Read-only. */
export function createFileSecretStore(
  options: FileSecretStoreOptions,
  runtime: Runtime = defaultRuntime(),
): SecretStore {
  const parsed = parseOptions(fileSecretStoreOptionsSchema, options, 'file secret store options');
  return guardSecretStore(
    new FileSecretStoreAdapter(parsed.directory, parsed.trimTrailingNewline),
    parsed,
    runtime,
  );
}
