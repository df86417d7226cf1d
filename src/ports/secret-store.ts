import type {
  Component,
  HealthResult,
  OperationContext,
  OperationOptions,
  OperationSpecs,
  PortDefinition,
} from './component.ts';
import type { ErrorClassification } from './errors.ts';
import type { Redacted } from './redacted.ts';

/** What a store knows about a secret besides its value. */
export interface SecretMetadata {
  readonly name: string;
  /** The backend's version id, where it keeps versions. */
  readonly version?: string | undefined;
  readonly updatedAt?: Date | undefined;
  readonly expiresAt?: Date | undefined;
  readonly contentType?: string | undefined;
}

export interface Secret extends SecretMetadata {
  /** Prints as `<redacted>` everywhere; `value.reveal()` is the only way to the plain text. */
  readonly value: Redacted<string>;
}

export interface SecretSetOptions extends OperationOptions {
  contentType?: string;
  expiresAt?: Date;
}

export interface SecretStoreCapabilities {
  /** False for stores the application only reads (environment, mounted files). */
  readonly write: boolean;
}

/**
 * Named secrets. A missing secret is `not_found`. On a store without the `write` capability,
 * `set` and `delete` reject with `config` before any I/O.
 */
export interface SecretStore extends Component {
  readonly capabilities: SecretStoreCapabilities;
  get(name: string, options?: OperationOptions): Promise<Secret>;
  /** Names of the secrets there are, sorted. */
  list(options?: OperationOptions): Promise<string[]>;
  set(name: string, value: string | Redacted<string>, options?: SecretSetOptions): Promise<SecretMetadata>;
  /** Resolves true when the secret existed. */
  delete(name: string, options?: OperationOptions): Promise<boolean>;
}

export type SecretStoreOperation = 'get' | 'list' | 'set' | 'delete';

export const secretStoreOperations: OperationSpecs<SecretStoreOperation> = {
  get: { idempotent: true },
  list: { idempotent: true },
  set: { idempotent: false }, // each set makes a new version on a versioned store
  delete: { idempotent: true },
};

export const secretStorePort: PortDefinition<SecretStoreOperation> = {
  key: 'secrets',
  name: 'secrets',
  idPrefix: 'secrets',
  envPrefix: 'SECRETS',
  critical: true,
  inMemoryDriver: 'memory',
  operations: secretStoreOperations,
};

/** What `set` passes to an adapter besides the value. */
export interface SecretWriteOptions {
  contentType?: string | undefined;
  expiresAt?: Date | undefined;
}

/** A secret as an adapter returns it: the plain value, which berth wraps before anyone sees it. */
export interface StoredSecret extends SecretMetadata {
  readonly value: string;
}

/**
 * What a secret backend implements; berth builds the `SecretStore` port around it once
 * (name checks, redaction, guard).
 */
export interface SecretStoreAdapter {
  /** e.g. `azure_key_vault`, `env`, `file`, `memory`. */
  readonly system: string;
  /** Why `name` cannot be a name in this backend, or undefined when it can. */
  checkName?(name: string): string | undefined;
  /** Resolves undefined when there is no such secret. */
  get(name: string, ctx: OperationContext): Promise<StoredSecret | undefined>;
  list(ctx: OperationContext): Promise<string[]>;
  /** A store that can write has both `set` and `delete`. */
  set?(
    name: string,
    value: string,
    options: SecretWriteOptions,
    ctx: OperationContext,
  ): Promise<SecretMetadata>;
  delete?(name: string, ctx: OperationContext): Promise<boolean>;
  probe(signal: AbortSignal): Promise<HealthResult>;
  classifyError(error: unknown): ErrorClassification;
  close(): Promise<void>;
}
