import { randomUUID } from 'node:crypto';
import type { HealthResult } from '../../ports/component.ts';
import type { ErrorClassification } from '../../ports/errors.ts';
import type {
  SecretMetadata,
  SecretWriteOptions,
  SecretStore,
  SecretStoreAdapter,
  StoredSecret,
} from '../../ports/secret-store.ts';
import { parseOptions } from '../../runtime/options/validate.ts';
import { memorySecretStoreOptionsSchema, type MemorySecretStoreOptions } from './options.ts';
import { guardSecretStore } from '../../runtime/secrets/guarded-secret-store.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';

/** Secrets in a Map, versioned like Key Vault: a faithful, writable test double. */
class MemorySecretStoreAdapter implements SecretStoreAdapter {
  readonly system = 'memory';
  readonly #secrets = new Map<string, StoredSecret>();

  constructor(initial: Record<string, string>) {
    for (const [name, value] of Object.entries(initial)) this.#put(name, value, {});
  }

  #put(name: string, value: string, options: SecretWriteOptions): SecretMetadata {
    const metadata: SecretMetadata = {
      name,
      version: randomUUID().replaceAll('-', ''),
      updatedAt: new Date(),
      expiresAt: options.expiresAt,
      contentType: options.contentType,
    };
    this.#secrets.set(name, { ...metadata, value });
    return metadata;
  }

  get(name: string): Promise<StoredSecret | undefined> {
    return Promise.resolve(this.#secrets.get(name));
  }

  list(): Promise<string[]> {
    return Promise.resolve([...this.#secrets.keys()]);
  }

  set(name: string, value: string, options: SecretWriteOptions): Promise<SecretMetadata> {
    return Promise.resolve(this.#put(name, value, options));
  }

  delete(name: string): Promise<boolean> {
    return Promise.resolve(this.#secrets.delete(name));
  }

  probe(): Promise<HealthResult> {
    return Promise.resolve({ status: 'up', details: { secrets: this.#secrets.size } });
  }

  classifyError(): ErrorClassification {
    return { reason: 'internal' };
  }

  close(): Promise<void> {
    this.#secrets.clear();
    return Promise.resolve();
  }
}

export function createMemorySecretStore(
  options: MemorySecretStoreOptions = {},
  runtime: Runtime = defaultRuntime(),
): SecretStore {
  const parsed = parseOptions(memorySecretStoreOptionsSchema, options, 'memory secret store options');
  return guardSecretStore(new MemorySecretStoreAdapter(parsed.secrets), parsed, runtime);
}
